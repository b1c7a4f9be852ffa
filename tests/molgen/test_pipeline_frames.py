"""``molgen run`` trains on the reference's equilibrated frames only, superposed; an unreadable
reference trajectory is an input error naming it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import systems
from forcefields.errors import InputFileError
from molgen.pipeline import ALIGNMENT, _superposed_frames
from systems.reference.outputs import write_target_frames
from systems.reference.rigid_resampling import rigid_pose


def _reference(folder, system, n_frames: int, equilibration_frames: int) -> np.ndarray:
    """Write two chains of ``n_frames`` noisy copies of the minimised structure."""
    rng = np.random.default_rng(3)
    positions = system.positions + 0.01 * rng.standard_normal((n_frames, 2, system.n_atoms, 3))
    shape = (n_frames, 2)
    write_target_frames(
        folder,
        positions,
        np.zeros(shape),
        np.zeros(shape, dtype=int),
        1.0,
        "kJ/mol",
        {},
        topology=system.topology,
    )
    (folder / "stats.json").write_text(
        json.dumps({"populations": {}, "equilibration_frames": equilibration_frames})
    )
    return positions


def test_frames_before_equilibration_are_not_training_data(tmp_path):
    system = systems.load("butane")
    positions = _reference(tmp_path, system, n_frames=5, equilibration_frames=2)
    data = _superposed_frames(tmp_path, system)
    kept = np.concatenate([positions[2:, 0], positions[2:, 1]])
    expected = rigid_pose(system, ALIGNMENT).aligned(
        torch.as_tensor(kept.astype(np.float32), dtype=torch.float64)
    )
    # dcd stores float32 Ångström, a rounding of ~1e-8 nm here; frames differ by ~1e-2 nm
    np.testing.assert_allclose(data, expected.numpy(), atol=1e-7)


def test_a_frame_count_that_disagrees_with_the_trajectory_is_refused(tmp_path):
    system = systems.load("butane")
    _reference(tmp_path, system, n_frames=3, equilibration_frames=0)
    np.savez(tmp_path / "frames.npz", iteration=np.arange(1, 5))
    with pytest.raises(InputFileError, match=r"frames\.npz: 4 frames, but trajectory\.dcd has 6"):
        _superposed_frames(tmp_path, system)


def test_an_unreadable_reference_trajectory_is_an_input_error(tmp_path):
    system = systems.load("butane")
    _reference(tmp_path, system, n_frames=3, equilibration_frames=0)
    (tmp_path / "trajectory.dcd").write_bytes(b"not a dcd file")
    with pytest.raises(InputFileError, match=r"trajectory\.dcd: mdtraj cannot read it"):
        _superposed_frames(tmp_path, system)
