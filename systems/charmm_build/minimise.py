"""Energy minimisation with the psf/prm System, on OpenMM's Reference platform."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openmm
import openmm.app as app
import openmm.unit as unit

__all__ = ["psf_system", "minimised_positions", "potential_energy"]

_TOLERANCE = 1e-4 * unit.kilojoule_per_mole / unit.nanometer


def psf_system(psf: Path, prm: Path) -> openmm.System:
    """The vacuum System (no cutoff, no constraints) ``openmm.app`` builds from psf + prm."""
    return app.CharmmPsfFile(str(psf)).createSystem(
        app.CharmmParameterSet(str(prm)),
        nonbondedMethod=app.NoCutoff,
        constraints=None,
        rigidWater=False,
    )


def _reference_context(system: openmm.System, positions: np.ndarray) -> openmm.Context:
    context = openmm.Context(
        system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference")
    )
    context.setPositions(positions * unit.nanometer)
    return context


def minimised_positions(system: openmm.System, positions: np.ndarray) -> np.ndarray:
    """L-BFGS minimum (nm, shape ``(n_atoms, 3)``) reached from ``positions`` (nm)."""
    context = _reference_context(system, positions)
    openmm.LocalEnergyMinimizer.minimize(context, _TOLERANCE, 0)
    state = context.getState(getPositions=True)
    return state.getPositions(asNumpy=True).value_in_unit(unit.nanometer)


def potential_energy(system: openmm.System, positions: np.ndarray) -> float:
    """Potential energy (kJ/mol) of ``positions`` (nm, shape ``(n_atoms, 3)``)."""
    state = _reference_context(system, positions).getState(getEnergy=True)
    return state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
