"""Hydrogen-minimised references: heavy atoms fixed, hydrogens at an energy minimum."""

import numpy as np
import torch

import systems
from systems.reference.hydrogen_minimisation import minimise_hydrogens


def test_hydrogens_reach_a_minimum_with_heavy_atoms_fixed():
    butane = systems.load("butane")
    energy = butane.energy()
    rng = np.random.default_rng(0)
    frames = torch.as_tensor(butane.positions[None] + rng.normal(scale=0.01, size=(16, 14, 3)))
    minimised = minimise_hydrogens(energy, frames, butane.hydrogens)
    heavy = butane.heavy_atoms
    assert torch.equal(minimised[:, heavy], frames[:, heavy])
    assert torch.all(energy(minimised) < energy(frames))
    forces = energy.forces(minimised)[:, butane.hydrogens]
    # L-BFGS stops once every hydrogen force component is below 1e-2 kJ/mol/nm, or after
    # 200 iterations; 1 kJ/mol/nm is ~1e-3 of the forces of the perturbed frames.
    assert forces.abs().max() < 1.0
    assert energy.forces(frames)[:, butane.hydrogens].abs().max() > 100.0
