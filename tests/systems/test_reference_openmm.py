"""OpenMM parallel tempering of butane: readable outputs, correct export, resume, seeds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mdtraj
import netCDF4
import numpy as np
import openmm
import pytest

from systems.reference.ladder import geometric_ladder
from systems.reference.molecule_reference import run_openmm_reference
from systems.reference.openmm_tempering import TemperingSettings, add_hydrogen_bond_constraints
from systems.reference.targets import reference_target

CONTRACT_KEYS = {
    "system",
    "temperature",
    "n_frames",
    "statistical_inefficiency",
    "n_effective",
    "populations",
}


@pytest.fixture(scope="module")
def butane():
    return reference_target("butane")


def _run(butane, out: Path, n_iterations: int, seed: int = 0, steps: int = 50, resume=False):
    settings = TemperingSettings(
        temperatures=geometric_ladder(300.0, 600.0, 4), steps_per_iteration=steps, seed=seed
    )
    return run_openmm_reference(
        out,
        "butane",
        butane.openmm_system,
        butane.positions,
        butane.topology,
        butane.labels,
        butane.mode_names,
        butane.observables,
        settings,
        n_iterations,
        resume=resume,
    )


def _trajectory(out: Path) -> mdtraj.Trajectory:
    return mdtraj.load(str(out / "trajectory.dcd"), top=str(out / "topology.pdb"))


@pytest.fixture(scope="module")
def tiny_run(butane, tmp_path_factory):
    out = tmp_path_factory.mktemp("butane") / "run"
    return out, _run(butane, out, n_iterations=30)


def test_outputs_are_readable(tiny_run, butane):
    out, stats = tiny_run
    trajectory = _trajectory(out)
    frames = np.load(out / "frames.npz")
    assert trajectory.n_frames == 30
    assert trajectory.n_atoms == 14
    np.testing.assert_array_equal(frames["iteration"], np.arange(1, 31))
    assert set(frames.files) >= {"energy", "reduced_potential", "mode", "dihedral"}
    stored = json.loads((out / "stats.json").read_text())
    assert CONTRACT_KEYS <= set(stored)
    assert stored["n_frames"] == 30
    assert stored["temperature"] == pytest.approx(300.0)
    assert set(stored["populations"]) == set(butane.mode_names)
    total = sum(value["mean"] for value in stored["populations"].values())
    assert total == pytest.approx(1.0)


def test_exported_energies_are_those_of_the_exported_frames(tiny_run, butane):
    """Recompute the target-temperature energies with a fresh OpenMM context."""
    out, _ = tiny_run
    context = openmm.Context(
        butane.openmm_system,
        openmm.VerletIntegrator(0.001),
        openmm.Platform.getPlatformByName("Reference"),
    )
    energies = []
    for frame in _trajectory(out).xyz.astype(np.float64):
        context.setPositions(frame)
        state = context.getState(getEnergy=True)
        energies.append(state.getPotentialEnergy().value_in_unit(openmm.unit.kilojoule_per_mole))
    # The trajectory holds float32 coordinates (~3e-8 nm rounding); with forces of at most
    # ~1e3 kJ/mol/nm on 14 atoms this moves the energy by < 1e-3 kJ/mol.
    np.testing.assert_allclose(np.load(out / "frames.npz")["energy"], energies, atol=1e-2)


def test_dihedral_observable_agrees_with_mdtraj(tiny_run, butane):
    out, _ = tiny_run
    carbons = [int(butane.topology.select(f"name C{i}")[0]) for i in range(1, 5)]
    expected = mdtraj.compute_dihedrals(_trajectory(out), [carbons])[:, 0]
    difference = np.angle(np.exp(1j * (np.load(out / "frames.npz")["dihedral"] - expected)))
    # float32 coordinates: angles agree to ~1e-6 rad.
    assert np.abs(difference).max() < 1e-4


def test_ladder_energies_rise_with_temperature(tiny_run):
    """Each temperature's exported energies belong to it: ⟨U⟩ grows with T.

    Equipartition over butane's 36 internal degrees of freedom predicts ⟨U⟩(600 K) −
    ⟨U⟩(300 K) ≈ 18 k_B × 300 K ≈ 45 kJ/mol; 30 correlated frames per temperature give a
    mean with an error of a few kJ/mol, so 20 kJ/mol is a safe lower bound.
    """
    out, _ = tiny_run
    ladder = np.load(out / "ladder.npz")
    means = ladder["energies"][:, :, 0].mean(axis=0)
    assert means[-1] - means[0] > 20.0
    assert np.all(ladder["swap_acceptance"] > 0.0)


def test_resume_continues_from_the_stored_iteration(butane, tmp_path):
    out = tmp_path / "run"
    _run(butane, out, n_iterations=8)
    before = np.load(out / "frames.npz")["energy"]
    before_xyz = _trajectory(out).xyz
    stats = _run(butane, out, n_iterations=15, resume=True)
    after = np.load(out / "frames.npz")
    assert stats["n_frames"] == 15
    np.testing.assert_array_equal(after["iteration"], np.arange(1, 16))
    np.testing.assert_array_equal(after["energy"][:8], before)
    np.testing.assert_array_equal(_trajectory(out).xyz[:8], before_xyz)


def test_same_seed_same_numbers_other_seed_other_numbers(butane, tmp_path):
    energies = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        _run(butane, tmp_path / name, n_iterations=4, seed=seed, steps=20)
        energies.append(np.load(tmp_path / name / "ladder.npz")["energies"])
    np.testing.assert_array_equal(energies[0], energies[1])
    assert not np.array_equal(energies[0], energies[2])


def _last_iteration(storage: Path) -> int:
    with netCDF4.Dataset(storage, "r") as dataset:
        return int(dataset.variables["last_iteration"][0])


@pytest.mark.slow
def test_resume_after_a_kill_loses_no_iteration(tmp_path):
    """SIGKILL a running ``molgen reference``; resuming gives every iteration exactly once."""
    out = tmp_path / "run"
    command = [sys.executable, "-m", "cli.main", "reference", "butane", "--out", str(out)]
    command += ["--steps-per-iteration", "20", "--no-progress", "--seed", "3"]
    environment = dict(os.environ, OMP_NUM_THREADS="1")
    process = subprocess.Popen(
        [*command, "--iterations", "100000"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    storage = out / "pt.nc"
    deadline = time.monotonic() + 120.0
    while not storage.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    # The storage cannot be read while the run writes it (HDF5 locks it), so let the run
    # go on for a while (tens of iterations at ~40 per second) before killing it.
    time.sleep(3.0)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = _last_iteration(storage)
    assert killed_at >= 1
    total = killed_at + 15
    subprocess.run(
        [*command, "--iterations", str(total), "--resume"],
        env=environment,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    frames = np.load(out / "frames.npz")
    np.testing.assert_array_equal(frames["iteration"], np.arange(1, total + 1))
    assert _trajectory(out).n_frames == total
    assert json.loads((out / "stats.json").read_text())["n_frames"] == total


@pytest.mark.slow
def test_butane_populations_are_plausible(butane, tmp_path):
    """A short reference run: trans dominates and the two gauche modes are mirror images.

    At 300 K the CGenFF gauche minimum lies 0.68 kcal/mol = 2.85 kJ/mol above trans,
    so a Boltzmann estimate from the minima alone gives trans ≈ 1 / (1 + 2 e^{-2.85/2.49})
    ≈ 0.61 (the thesis, with its own force field, reports 0.71).
    """
    stats = _run(butane, tmp_path / "run", n_iterations=1200, steps=500)
    populations = stats["populations"]
    assert 0.5 < populations["trans"]["mean"] < 0.85
    plus, minus = populations["gauche+"], populations["gauche-"]
    # gauche+ and gauche- are mirror images: equal populations within 4 combined errors.
    assert abs(plus["mean"] - minus["mean"]) < 4 * np.hypot(plus["sem"], minus["sem"])


def test_hydrogen_bond_constraints(butane):
    system = openmm.XmlSerializer.clone(butane.openmm_system)
    assert add_hydrogen_bond_constraints(system, butane.topology) == 10
    hydrogens = {atom.index for atom in butane.topology.atoms if atom.element.symbol == "H"}
    for index in range(system.getNumConstraints()):
        first, second, length = system.getConstraintParameters(index)
        assert len({first, second} & hydrogens) == 1
        # C-H bonds: about 0.11 nm.
        assert 0.10 < length.value_in_unit(openmm.unit.nanometer) < 0.12


class _Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs."""


def test_a_run_killed_while_openmmtools_creates_its_storage_starts_afresh(
    butane, tmp_path, monkeypatch
):
    # Killed before openmmtools checkpointed any positions, the storage held an empty
    # positions table: --resume failed with a false "dynamics became unstable (NaN)".
    from openmmtools.multistate import MultiStateReporter

    def killed(*args, **kwargs):
        raise _Killed

    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        patch.setattr(MultiStateReporter, "write_sampler_states", killed)
        with pytest.raises(_Killed):
            _run(butane, out, n_iterations=5)
    with netCDF4.Dataset(out / "pt_checkpoint.nc") as data:
        positions = data.variables.get("positions")
        assert positions is None or positions.shape[0] == 0
    stats = _run(butane, out, n_iterations=5, resume=True)
    assert stats["n_frames"] == 5
    fresh = _run(butane, tmp_path / "fresh", n_iterations=5)
    assert stats["energy"] == fresh["energy"]
