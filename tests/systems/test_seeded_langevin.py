"""The OpenMM engine's move: redrawn velocities carry LangevinMiddle's half-step lag."""

from __future__ import annotations

import numpy as np
import openmm
from openmm import unit
from openmmtools import cache, states

from benchmarks.openmm_velocity_redraw import oscillators
from systems.reference.seeded_langevin import SeededLangevinMove


def test_redrawn_velocities_lag_half_a_step_behind_the_positions():
    # LangevinMiddle stores v - dt/2 F/m; OpenMM's setVelocitiesToTemperature, which the
    # move calls before every segment, gives the draw that lag (OpenMM 8.6). Without it a
    # redraw would heat stiff modes by far more than the (omega dt / 2)^2 the
    # openmm_velocity_redraw benchmark measures.
    particles, timestep = 3000, 0.001
    system = oscillators(particles, 0.5)
    thermodynamic = states.ThermodynamicState(system, 300 * unit.kelvin)
    positions = np.random.default_rng(0).normal(0.0, 0.0032, (particles, 3))
    sampler = states.SamplerState(positions * unit.nanometer)
    move = SeededLangevinMove(
        seed=3, timestep=timestep * unit.picosecond, collision_rate=1 / unit.picosecond, n_steps=1
    )
    seen = {}
    draw = move._before_integration

    def recording(context, state):
        draw(context, state)
        now = context.getState(getVelocities=True, getForces=True)
        seen["v"] = now.getVelocities(asNumpy=True).value_in_unit(unit.nanometer / unit.picosecond)
        seen["a"] = now.getForces(asNumpy=True).value_in_unit(
            unit.kilojoule_per_mole / unit.nanometer
        )

    move._before_integration = recording
    contexts = cache.ContextCache(platform=openmm.Platform.getPlatformByName("Reference"))
    move.apply(thermodynamic, sampler, contexts)
    velocity, acceleration = seen["v"].ravel(), seen["a"].ravel()  # masses of 1 Da
    slope = (velocity @ acceleration) / (acceleration @ acceleration)
    # 9000 thermal velocities (sd 1.58 nm/ps) against accelerations of sd 800 nm/ps^2: the
    # slope's standard error is 2e-5; without the lag the slope would be 0, -5e-4 away
    assert abs(slope + timestep / 2) < 1e-4
