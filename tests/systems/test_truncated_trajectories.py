"""A DCD that lost its tail is refused, not read in part."""

import mdtraj
import numpy as np
import pytest

from forcefields.errors import InputFileError
from systems.files import charmm_files
from systems.trajectories import dcd_header_frame_count, read_frames

BUTANE = charmm_files("butane")


@pytest.fixture
def ten_frames(tmp_path):
    structure = mdtraj.load(str(BUTANE.pdb))
    xyz = structure.xyz + np.random.default_rng(0).normal(0, 0.01, (10, *structure.xyz.shape[1:]))
    path = tmp_path / "ten.dcd"
    mdtraj.Trajectory(xyz, structure.topology).save_dcd(str(path))
    return path


def test_a_whole_dcd_is_read_with_its_header_count(ten_frames):
    assert dcd_header_frame_count(ten_frames) == 10
    assert read_frames(ten_frames, BUTANE.pdb).shape == (10, 14, 3)


@pytest.mark.parametrize("lost_bytes", [1, 100, 1000])
def test_a_truncated_dcd_is_refused_by_name(ten_frames, lost_bytes):
    # mdtraj itself returns the whole frames that remain (e.g. 9 of 10) without a word
    data = ten_frames.read_bytes()
    ten_frames.write_bytes(data[:-lost_bytes])
    assert len(mdtraj.load(str(ten_frames), top=str(BUTANE.pdb))) < 10
    with pytest.raises(InputFileError, match=r"ten.dcd: its header counts 10 frames but"):
        read_frames(ten_frames, BUTANE.pdb)


def test_a_file_without_a_dcd_header_has_no_count(tmp_path):
    path = tmp_path / "not.dcd"
    path.write_bytes(b"just some text, not a DCD")
    assert dcd_header_frame_count(path) is None
