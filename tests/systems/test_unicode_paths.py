"""Trajectories under paths with non-ASCII characters: mdtraj's DCD and XTC code cannot
encode such names, so molgen writes and reads them through ASCII-named copies."""

from __future__ import annotations

import mdtraj
import numpy as np
import pytest

import systems
from molgen.sampling import write_trajectory_atomic
from systems.reference.atomic_files import save_trajectory_atomic
from systems.trajectories import read_frames


@pytest.mark.parametrize("suffix", [".dcd", ".xtc"])
def test_samples_are_written_and_read_back_under_a_non_ascii_path(tmp_path, suffix):
    butane = systems.load("butane")
    xyz = butane.positions[None] + 0.01 * np.random.default_rng(0).normal(size=(3, 14, 3))
    out = tmp_path / "ü dir 名" / f"m ä{suffix}"
    written = write_trajectory_atomic(out, xyz, mdtraj.load(str(butane.pdb)).topology)
    assert written == [out, out.with_suffix(".pdb")]
    # XTC stores coordinates to 1e-3 nm
    np.testing.assert_allclose(read_frames(out, out.with_suffix(".pdb")), xyz, atol=1e-3)
    assert sorted(p.name for p in out.parent.iterdir()) == sorted(p.name for p in written)


def test_a_reference_trajectory_is_written_under_a_non_ascii_path(tmp_path):
    butane = systems.load("butane")
    trajectory = mdtraj.load(str(butane.pdb))
    out = tmp_path / "réf 名" / "trajectory.dcd"
    save_trajectory_atomic(out, trajectory)
    np.testing.assert_allclose(read_frames(out, butane.pdb), trajectory.xyz, atol=1e-5)
