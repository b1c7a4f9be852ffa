"""A Langevin dynamics move whose random numbers follow from a seed.

openmmtools' ``LangevinDynamicsMove`` draws fresh velocities and integrator noise from
OpenMM's unseeded generators. This move derives both from ``(seed, number of applications,
temperature)``: velocities are redrawn from Maxwell–Boltzmann at the replica's temperature
before every segment (so a configuration that arrives from a swap starts at the right
temperature), and a newly created integrator gets a seed derived the same way. The
application counter is part of the move's stored state, so a resumed run keeps drawing
new numbers instead of repeating old ones. A segment that leaves an atom beyond
:data:`~systems.reference.runaway.RUNAWAY_DISTANCE_NM` from the molecule's centre raises
:class:`RunawayMoveError`, which openmmtools handles as it does a NaN (it saves the failing
state and raises ``SimulationNaNError``) before the coordinates are stored.
"""

from __future__ import annotations

import numpy as np
from openmm import unit
from openmmtools import mcmc

from systems.reference.runaway import RUNAWAY_DISTANCE_NM, farthest_from_centre, runaway_message

__all__ = ["RunawayMoveError", "SeededLangevinMove", "derived_seed"]


class RunawayMoveError(mcmc.IntegratorMoveError):
    """A move left an atom absurdly far from its molecule's centre (finite, but blown up)."""


def derived_seed(*keys: int) -> int:
    """A positive 31-bit integer seed determined by the integer ``keys``."""
    return int(np.random.SeedSequence([abs(int(key)) for key in keys]).generate_state(1)[0] >> 1)


class SeededLangevinMove(mcmc.LangevinDynamicsMove):
    """``LangevinDynamicsMove`` (LangevinMiddleIntegrator) with seeded velocities and noise.

    Arguments:
        seed: base seed of every random number the move draws.
        timestep, collision_rate, n_steps, constraint_tolerance: as in
            ``openmmtools.mcmc.LangevinDynamicsMove`` (OpenMM quantities).
    """

    def __init__(self, seed: int = 0, **kwargs):
        super().__init__(reassign_velocities=False, **kwargs)
        self.seed = int(seed)
        self.n_applied = 0

    def _key(self, thermodynamic_state) -> tuple[int, int, int]:
        millikelvin = round(thermodynamic_state.temperature.value_in_unit(unit.kelvin) * 1000)
        return self.seed, self.n_applied, millikelvin

    def _get_integrator(self, thermodynamic_state):
        integrator = super()._get_integrator(thermodynamic_state)
        integrator.setRandomNumberSeed(derived_seed(*self._key(thermodynamic_state), 1))
        return integrator

    def _before_integration(self, context, thermodynamic_state):
        context.setVelocitiesToTemperature(
            thermodynamic_state.temperature, derived_seed(*self._key(thermodynamic_state), 2)
        )

    def _after_integration(self, context, thermodynamic_state):
        self.n_applied += 1
        positions = context.getState(getPositions=True).getPositions(asNumpy=True)
        farthest = farthest_from_centre(positions.value_in_unit(unit.nanometer))
        if farthest > RUNAWAY_DISTANCE_NM:
            raise RunawayMoveError(runaway_message(farthest), self, context)

    def __getstate__(self):
        serialization = super().__getstate__()
        serialization["seed"] = self.seed
        serialization["n_applied"] = self.n_applied
        return serialization

    def __setstate__(self, serialization):
        super().__setstate__(serialization)
        self.seed = int(serialization["seed"])
        self.n_applied = int(serialization["n_applied"])
