"""Training on a ``molgen reference`` folder uses its equilibrated frames only, superposed
for a ``rigid`` penalty (``data.source: reference`` and ``molgen run``'s ``data.npz``);
unreadable or mismatched folders are input errors naming the file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import systems
from forcefields.errors import ConfigError, InputFileError
from molgen.pipeline import ALIGNMENT
from molgen.training.config import DataConfig, config_from_mapping
from molgen.training.data import load_data
from molgen.training.reference_data import equilibrated_reference_frames
from systems.reference.outputs import write_target_frames
from systems.reference.rigid_resampling import rigid_pose


def _reference(folder, system, n_frames: int, equilibration_frames: int) -> np.ndarray:
    """Write two chains of ``n_frames`` noisy copies of the system's starting positions."""
    rng = np.random.default_rng(3)
    event = (system.n_atoms, 3) if system.kind == "molecule" else (system.dimension,)
    start = system.positions if system.kind == "molecule" else np.zeros(event)
    positions = start + 0.01 * rng.standard_normal((n_frames, 2, *event))
    shape = (n_frames, 2)
    topology = system.topology if system.kind == "molecule" else None
    write_target_frames(
        folder,
        positions,
        np.zeros(shape),
        np.zeros(shape, dtype=int),
        1.0,
        "kJ/mol",
        {},
        topology=topology,
    )
    stats = {"system": system.name, "populations": {}, "equilibration_frames": equilibration_frames}
    (folder / "stats.json").write_text(json.dumps(stats))
    return positions


def _superposed(system, frames: np.ndarray) -> np.ndarray:
    tensor = torch.as_tensor(frames.astype(np.float32), dtype=torch.float64)
    return rigid_pose(system, ALIGNMENT).aligned(tensor).numpy()


def test_frames_before_equilibration_are_not_training_data(tmp_path):
    system = systems.load("butane")
    positions = _reference(tmp_path, system, n_frames=5, equilibration_frames=2)
    data = equilibrated_reference_frames(tmp_path, system, ALIGNMENT)
    kept = np.concatenate([positions[2:, 0], positions[2:, 1]])
    # dcd stores float32 Ångström, a rounding of ~1e-8 nm here; frames differ by ~1e-2 nm
    np.testing.assert_allclose(data, _superposed(system, kept), atol=1e-7)


def test_a_reference_data_source_trains_on_the_equilibrated_superposed_frames(tmp_path):
    system = systems.load("butane")
    positions = _reference(tmp_path, system, n_frames=4, equilibration_frames=1)
    data = DataConfig(source="reference", path=str(tmp_path))
    points = load_data(system, data, 1.0, seed=0, align=ALIGNMENT)
    kept = np.concatenate([positions[1:, 0], positions[1:, 1]])
    assert points.shape == (6, system.dimension)
    # float32 Ångström storage, as above
    np.testing.assert_allclose(points.numpy(), _superposed(system, kept).reshape(6, -1), atol=1e-7)


def test_a_toy_reference_gives_its_equilibrated_samples(tmp_path):
    system = systems.load("double_well_wide")
    positions = _reference(tmp_path, system, n_frames=3, equilibration_frames=1)
    data = DataConfig(source="reference", path=str(tmp_path))
    points = load_data(system, data, 1.0, seed=0)
    expected = np.concatenate([positions[1:, 0], positions[1:, 1]])
    np.testing.assert_array_equal(points.numpy(), expected)


def test_toy_points_of_another_length_are_refused_alike_for_training_and_estimates(tmp_path):
    from molgen.estimate.samples import load_samples

    system = systems.load("double_well_wide")
    positions = _reference(tmp_path, system, n_frames=3, equilibration_frames=1)
    np.savez(tmp_path / "samples.npz", x=positions[:2].reshape(4, -1))
    message = r"samples\.npz: expected an array 'x' of points \(N, D\) with one row per frame"
    with pytest.raises(InputFileError, match=message):
        equilibrated_reference_frames(tmp_path, system)
    with pytest.raises(InputFileError, match=message):
        load_samples(tmp_path)


def test_a_reference_of_another_system_is_refused(tmp_path):
    _reference(tmp_path, systems.load("butane"), n_frames=3, equilibration_frames=0)
    with pytest.raises(InputFileError, match=r"stats\.json: a reference run of 'butane'"):
        equilibrated_reference_frames(tmp_path, systems.load("dialanine"))


def test_a_folder_without_stats_is_refused_by_name(tmp_path):
    system = systems.load("butane")
    data = DataConfig(source="reference", path=str(tmp_path / "missing"))
    with pytest.raises(InputFileError, match=r"phase\.data\.path: .*missing is not a molgen"):
        load_data(system, data, 1.0, seed=0, path="phase.data")


def test_a_reference_source_needs_a_path():
    config = {
        "system": "butane",
        "phases": [
            {"name": "p", "steps": 1, "losses": {"kl_z_dd": 1.0}, "data": {"source": "reference"}}
        ],
    }
    with pytest.raises(ConfigError, match=r"data\.path: required for source 'reference'"):
        config_from_mapping(config)


def test_a_frame_count_that_disagrees_with_the_trajectory_is_refused(tmp_path):
    system = systems.load("butane")
    _reference(tmp_path, system, n_frames=3, equilibration_frames=0)
    np.savez(tmp_path / "frames.npz", iteration=np.arange(1, 5))
    with pytest.raises(
        InputFileError, match=r"frames\.npz: 4 frames, but the run's coordinates hold 6"
    ):
        equilibrated_reference_frames(tmp_path, system, ALIGNMENT)


def test_an_unreadable_reference_trajectory_is_an_input_error(tmp_path):
    system = systems.load("butane")
    _reference(tmp_path, system, n_frames=3, equilibration_frames=0)
    (tmp_path / "trajectory.dcd").write_bytes(b"not a dcd file")
    with pytest.raises(InputFileError, match=r"trajectory\.dcd: mdtraj cannot read it"):
        equilibrated_reference_frames(tmp_path, system, ALIGNMENT)


def test_frames_sampled_at_another_temperature_are_refused(tmp_path):
    # such frames used to be accepted, while molgen evaluate refused the same folder
    system = systems.load("butane")
    _reference(tmp_path, system, n_frames=3, equilibration_frames=0)
    stats = json.loads((tmp_path / "stats.json").read_text())
    (tmp_path / "stats.json").write_text(json.dumps({**stats, "temperature": 600.0}))
    with pytest.raises(InputFileError, match=r"sampled at temperature 600, but the phase"):
        equilibrated_reference_frames(tmp_path, system)
    assert equilibrated_reference_frames(tmp_path, system, temperature_factor=2.0).shape[0] == 6


def test_a_reference_without_frames_npz_is_refused_by_name(tmp_path):
    system = systems.load("butane")
    _reference(tmp_path, system, n_frames=3, equilibration_frames=0)
    (tmp_path / "frames.npz").unlink()
    with pytest.raises(InputFileError, match=r"frames\.npz: not found"):
        equilibrated_reference_frames(tmp_path, system)


def test_an_object_array_beside_the_data_array_does_no_harm(tmp_path):
    # every array of the archive used to be read, so a pickled metadata array failed
    system = systems.load("double_well_wide")
    points = np.zeros((4, system.dimension))
    np.savez(tmp_path / "data.npz", x=points, meta=np.array({"note": 1}, dtype=object))
    data = DataConfig(source="file", path=str(tmp_path / "data.npz"))
    assert load_data(system, data, 1.0, seed=0).shape == (4, system.dimension)
