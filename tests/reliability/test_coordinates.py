"""Bad coordinates: NaN/inf values, wrong shapes and types, empty or mismatched trajectories.

The energy raises :class:`NonFiniteCoordinatesError` or :class:`ShapeMismatchError` naming
the ``coordinates`` field (and the frames); ``molgen validate-ff`` names the trajectory
file and exits 2 without writing its report.
"""

from __future__ import annotations

import mdtraj
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import forcefields
from forcefields.errors import NonFiniteCoordinatesError, ShapeMismatchError
from systems.files import charmm_files
from tests.reliability import bad_inputs
from tests.reliability.cli_contract import assert_cli_rejects

SYSTEMS = ("butane", "dialanine")
NON_FINITE = (float("nan"), float("inf"), float("-inf"))
POSITIONS = ((0, 0, 0), (2, 5, 1), (3, -1, 2), (1, 7, 0))


@pytest.fixture(scope="module", params=SYSTEMS)
def energy(request) -> forcefields.Energy:
    files = charmm_files(request.param)
    return forcefields.load(files.psf, files.prm, clip="default")


def _reference(energy) -> torch.Tensor:
    name = "butane" if energy.n_atoms == 14 else "dialanine"
    xyz = mdtraj.load(str(charmm_files(name).pdb)).xyz.astype(np.float64)
    return torch.as_tensor(xyz)


@pytest.mark.parametrize("value", NON_FINITE, ids=str)
@pytest.mark.parametrize("frame, atom, axis", POSITIONS)
def test_non_finite_coordinates_are_named_by_frame(energy, value, frame, atom, axis):
    x = _reference(energy).repeat(4, 1, 1)
    x[frame, atom, axis] = value
    bad_inputs.record("coordinates", x.numpy().tobytes(), str(energy.n_atoms))
    for evaluate in (energy, energy.terms, energy.forces):
        with pytest.raises(NonFiniteCoordinatesError, match=rf"coordinates: .*\[{frame}\]"):
            evaluate(x)


WRONG_SHAPES = ((14, 3), (1, 13, 3), (1, 22, 2), (2, 14, 3, 1), (1, 3, 14), (3,), (1, 0, 3))


@pytest.mark.parametrize("shape", WRONG_SHAPES, ids=str)
def test_wrong_shapes_are_rejected(energy, shape):
    x = torch.zeros(shape, dtype=torch.float64)
    bad_inputs.record("coordinates", str(shape), str(energy.n_atoms))
    with pytest.raises(
        ShapeMismatchError, match=rf"coordinates: expected shape \(B, {energy.n_atoms}, 3\)"
    ):
        energy(x)


@pytest.mark.parametrize(
    "coordinates",
    [
        lambda n: np.zeros((1, n, 3)),
        lambda n: [[[0.0] * 3] * n],
        lambda n: torch.zeros(1, n, 3, dtype=torch.complex128),
        lambda n: torch.zeros(1, n, 3, dtype=torch.bool),
    ],
    ids=["numpy", "list", "complex", "bool"],
)
def test_wrong_coordinate_types_are_rejected(energy, coordinates):
    x = coordinates(energy.n_atoms)
    bad_inputs.record(
        "coordinates", repr(type(x)), str(getattr(x, "dtype", "")), str(energy.n_atoms)
    )
    with pytest.raises(ShapeMismatchError, match=r"coordinates: expected a real torch.Tensor"):
        energy(x)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    array=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=16),
        elements=st.floats(allow_nan=True, allow_infinity=True, width=64),
    )
)
def test_arbitrary_arrays_give_finite_energies_or_typed_errors(energy, array):
    x = torch.as_tensor(array)
    try:
        values = energy(x)
    except (ShapeMismatchError, NonFiniteCoordinatesError) as error:
        assert str(error).startswith("coordinates: ")
        bad_inputs.record("coordinates", array.tobytes(), str(array.shape), str(energy.n_atoms))
        return
    assert values.shape == (x.shape[0],)


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    batch=st.integers(1, 4),
    scale=st.sampled_from([1e-3, 1.0, 1e3, 1e6]),
)
def test_clipped_energy_is_finite_for_any_finite_frame(energy, data, batch, scale):
    shape = (batch, energy.n_atoms, 3)
    unit = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-1, 1)))
    x = torch.as_tensor(unit * scale)
    assert torch.isfinite(energy(x)).all()
    assert torch.isfinite(energy.forces(x)).all()


def _butane_frames(count: int) -> mdtraj.Trajectory:
    reference = mdtraj.load(str(charmm_files("butane").pdb))
    noise = np.random.default_rng(0).normal(scale=0.01, size=(count, reference.n_atoms, 3))
    return mdtraj.Trajectory((reference.xyz + noise).astype(np.float32), reference.topology)


def _validate(trajectory, topology, tmp_path, capsys, names):
    butane = charmm_files("butane")
    report = tmp_path / "out" / "report.json"
    argv = ["validate-ff", "--system", "butane", "--traj", trajectory, "--json", report]
    if topology is not None:
        argv += ["--top", topology]
    bad_inputs.record("trajectory", trajectory.read_bytes(), str(topology))
    assert_cli_rejects(argv, capsys, names=names, outputs=[report])
    assert butane.pdb.is_file()


@pytest.mark.parametrize("frame", [0, 2, 4])
@pytest.mark.parametrize("value", NON_FINITE, ids=str)
def test_cli_names_a_trajectory_with_non_finite_frames(tmp_path, capsys, frame, value):
    frames = _butane_frames(5)
    frames.xyz[frame, 3, 1] = value
    path = tmp_path / "frames.dcd"
    frames.save_dcd(str(path))
    _validate(path, charmm_files("butane").pdb, tmp_path, capsys, [str(path), f"[{frame}]"])


EMPTY_FILES = {
    "empty.pdb": b"",
    "empty.dcd": b"",
    "empty.xtc": b"",
    "empty.h5": b"",
    "end_only.pdb": b"END\n",
    "model_only.pdb": b"MODEL        1\nENDMDL\nEND\n",
    "garbage.dcd": bytes(range(256)) * 4,
    "garbage.pdb": b"ATOM  garbage\n" * 3,
    "text.xtc": b"not an xtc file\n",
}


@pytest.mark.parametrize("name", sorted(EMPTY_FILES))
def test_cli_rejects_empty_and_garbage_trajectories(tmp_path, capsys, name):
    path = tmp_path / name
    path.write_bytes(EMPTY_FILES[name])
    _validate(path, charmm_files("butane").pdb, tmp_path, capsys, [str(path)])


@pytest.mark.parametrize("suffix", [".dcd", ".xtc", ".pdb"])
def test_cli_rejects_trajectories_without_frames(tmp_path, capsys, suffix):
    path = tmp_path / f"no_frames{suffix}"
    _butane_frames(1)[:0].save(str(path))
    _validate(path, charmm_files("butane").pdb, tmp_path, capsys, [str(path)])


@pytest.mark.parametrize("kept", [13, 10, 1])
@pytest.mark.parametrize("suffix", [".pdb", ".dcd"])
def test_cli_rejects_a_trajectory_with_another_atom_count(tmp_path, capsys, kept, suffix):
    subset = _butane_frames(3).atom_slice(range(kept))
    path = tmp_path / f"subset{suffix}"
    subset.save(str(path))
    topology = tmp_path / "subset_topology.pdb"
    subset[0].save_pdb(str(topology))
    _validate(path, topology, tmp_path, capsys, ["(B, 14, 3)", f"{kept}, 3)"])


@pytest.mark.parametrize("suffix", [".dcd", ".xtc"])
def test_cli_rejects_a_topology_of_another_molecule(tmp_path, capsys, suffix):
    path = tmp_path / f"butane{suffix}"
    _butane_frames(2).save(str(path))
    _validate(path, charmm_files("dialanine").pdb, tmp_path, capsys, [str(path)])
