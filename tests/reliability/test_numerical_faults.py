"""Numerical faults: with clipping on, frames with overlapping atoms or huge coordinates
give finite energies and forces (and without clipping, the same frames do not)."""

from __future__ import annotations

import mdtraj
import numpy as np
import pytest
import torch

import forcefields
from systems.files import charmm_files


@pytest.fixture(scope="module", params=["butane", "dialanine"])
def molecule(request) -> tuple[forcefields.Energy, forcefields.Energy, torch.Tensor]:
    """``(clipped energy, exact energy, minimised frame (1, N, 3))``."""
    files = charmm_files(request.param)
    clipped = forcefields.load(files.psf, files.prm, clip="default")
    exact = forcefields.load(files.psf, files.prm)
    frame = torch.as_tensor(mdtraj.load(str(files.pdb)).xyz.astype(np.float64))
    return clipped, exact, frame


def _faulty_frames(frame: torch.Tensor) -> dict[str, torch.Tensor]:
    n = frame.shape[1]
    pair = frame.clone()
    pair[0, -1] = pair[0, 0]
    bonded_far = frame.clone()
    bonded_far[0, 0] += 50.0
    return {
        "all atoms at one point": torch.zeros(1, n, 3, dtype=torch.float64),
        "two non-bonded atoms on top of each other": pair,
        "atoms 1e-9 nm apart": frame[:, :1].repeat(1, n, 1) + 1e-9 * torch.arange(n)[None, :, None],
        "one atom 50 nm away": bonded_far,
        "coordinates of 1e6 nm": frame * 1e6,
        "collinear atoms": torch.linspace(0, 1, n, dtype=torch.float64)[None, :, None].repeat(
            1, 1, 3
        ),
    }


@pytest.mark.parametrize(
    "fault",
    [
        "all atoms at one point",
        "two non-bonded atoms on top of each other",
        "atoms 1e-9 nm apart",
        "one atom 50 nm away",
        "coordinates of 1e6 nm",
        "collinear atoms",
    ],
)
def test_clipped_energy_and_forces_are_finite(molecule, fault):
    clipped, _, frame = molecule
    x = _faulty_frames(frame)[fault]
    assert torch.isfinite(clipped(x)).all()
    assert torch.isfinite(clipped.forces(x)).all()
    for name, value in clipped.terms(x).items():
        assert torch.isfinite(value).all(), name


def test_overlapping_atoms_break_the_exact_energy(molecule):
    _, exact, frame = molecule
    x = _faulty_frames(frame)["two non-bonded atoms on top of each other"]
    assert not torch.isfinite(exact(x)).all() or exact(x).abs().max() > 1e10
