"""The training target's energy: an overflowed sample gives NaN (a skipped step), not an error."""

from __future__ import annotations

import torch

import systems
from molgen.training import ReducedEnergy


def test_a_sample_with_non_finite_coordinates_gets_a_nan_energy_and_the_others_theirs():
    system = systems.load("butane")
    energy = ReducedEnergy(system)
    start = torch.as_tensor(system.positions, dtype=torch.float64).reshape(1, -1)
    points = start.repeat(3, 1) + 0.001 * torch.randn(3, start.shape[1], dtype=torch.float64)
    points.requires_grad_(True)
    expected = energy(points.detach()).detach()
    broken = points.clone()
    broken[1, 4] = torch.inf
    values = energy(broken)
    assert torch.isnan(values[1])
    # the finite samples' energies are unchanged, bit for bit, and still differentiable
    assert torch.equal(values[[0, 2]], expected[[0, 2]])
    values[[0, 2]].sum().backward()
    assert torch.isfinite(points.grad[[0, 2]]).all() and (points.grad[1] == 0).all()
