"""The torch Langevin replica-exchange engine: forces, outputs, exact resume, CLI, OpenMM."""

from __future__ import annotations

import json
import math

import mdtraj
import numpy as np
import openmm
import pytest
import torch
from openmm import unit

import forcefields
import systems
from cli.main import main
from forcefields.errors import ConfigError
from systems.reference.langevin_reference import LangevinSettings, run_langevin_reference
from systems.reference.langevin_tempering import LangevinTempering
from systems.reference.molecular_forces import energy_and_forces_function
from systems.reference.targets import reference_target
from systems.reference.timeseries import statistical_inefficiency

CONTRACT_KEYS = {
    "system",
    "temperature",
    "n_frames",
    "statistical_inefficiency",
    "n_effective",
    "populations",
    "engine",
    "wall_time_s",
}
TINY = LangevinSettings(
    temperatures=(300.0, 400.0),
    n_ladders=4,
    steps_per_iteration=5,
    burn_in_iterations=3,
    save_every=2,
    dtype="float64",
    seed=7,
)


@pytest.fixture(scope="module")
def butane():
    return systems.load("butane")


class Interrupted(Exception):
    """Stands for a kill: raised from the sampler's callback."""


def _trajectory(out) -> mdtraj.Trajectory:
    return mdtraj.load(str(out / "trajectory.dcd"), top=str(out / "topology.pdb"))


@pytest.mark.parametrize("name", ["butane", "dialanine"])
def test_forces_are_the_autograd_gradient_of_the_energy(name):
    system = systems.load(name)
    energy = system.energy(dtype=torch.float64)
    generator = torch.Generator().manual_seed(0)
    x = torch.as_tensor(system.positions)[None] + 0.01 * torch.randn(
        (5, system.n_atoms, 3), generator=generator, dtype=torch.float64
    )
    energies, forces = energy_and_forces_function(energy)(x)
    torch.testing.assert_close(energies, energy(x), rtol=1e-12, atol=1e-9)
    torch.testing.assert_close(forces, energy.forces(x), rtol=1e-12, atol=1e-9)


def test_clipped_or_aligned_energy_is_refused(butane):
    with pytest.raises(ConfigError, match="unclipped"):
        energy_and_forces_function(butane.energy(clip="default"))
    with pytest.raises(ConfigError, match="alignment"):
        energy_and_forces_function(butane.energy(align={"mode": "rigid"}))


@pytest.fixture(scope="module")
def tiny_run(butane, tmp_path_factory):
    out = tmp_path_factory.mktemp("langevin") / "run"
    return out, run_langevin_reference(out, butane, TINY, 20)


def test_outputs_follow_the_reference_contract(tiny_run, butane):
    out, stats = tiny_run
    stored = json.loads((out / "stats.json").read_text())
    assert CONTRACT_KEYS <= set(stored)
    assert stored["engine"] == "langevin"
    assert set(stored["drift"]) == set(butane.mode_names)
    assert stored["n_frames"] == 4 * 20
    assert stored["temperature"] == pytest.approx(300.0)
    assert set(stored["populations"]) == set(butane.mode_names)
    assert sum(v["mean"] for v in stored["populations"].values()) == pytest.approx(1.0)
    series = np.load(out / "series.npz")
    assert series["energy"].shape == series["mode"].shape == (20, 4)
    frames = np.load(out / "frames.npz")
    trajectory = _trajectory(out)
    # Every second recorded iteration of 4 ladders, ladder by ladder.
    assert trajectory.n_frames == stored["n_trajectory_frames"] == 4 * 10
    np.testing.assert_array_equal(frames["iteration"], np.tile(np.arange(2, 21, 2), 4))
    np.testing.assert_array_equal(frames["chain"], np.repeat(np.arange(4), 10))
    np.testing.assert_array_equal(frames["energy"], series["energy"][1::2].T.reshape(-1))


def test_exported_energies_and_dihedrals_are_those_of_the_frames(tiny_run, butane):
    out, _ = tiny_run
    trajectory = _trajectory(out)
    frames = np.load(out / "frames.npz")
    energy = butane.energy(dtype=torch.float64)
    recomputed = energy(torch.as_tensor(trajectory.xyz, dtype=torch.float64)).numpy()
    # DCD stores float32 coordinates (~3e-8 nm rounding): with forces below ~1e3 kJ/mol/nm on
    # 14 atoms the energy moves by < 1e-3 kJ/mol.
    np.testing.assert_allclose(frames["energy"], recomputed, atol=1e-2)
    carbons = [int(butane.topology.select(f"name C{i}")[0]) for i in range(1, 5)]
    expected = mdtraj.compute_dihedrals(trajectory, [carbons])[:, 0]
    difference = np.angle(np.exp(1j * (frames["dihedral"] - expected)))
    assert np.abs(difference).max() < 1e-4


def test_resume_after_an_interruption_continues_exactly(tiny_run, butane, tmp_path):
    """Interrupt at iteration 13 (last checkpoint at 10), resume: the same numbers as the
    uninterrupted run, each frame once."""
    reference_out, _ = tiny_run
    out = tmp_path / "run"

    def interrupt(sampler: LangevinTempering) -> None:
        if sampler.iteration == 13:
            raise Interrupted

    with pytest.raises(Interrupted):
        run_langevin_reference(out, butane, TINY, 20, checkpoint_every=5, callback=interrupt)
    assert not (out / "stats.json").exists()
    stats = run_langevin_reference(out, butane, TINY, 20, resume=True, checkpoint_every=5)
    assert stats["n_frames"] == 4 * 20
    for name in ("series.npz", "frames.npz"):
        expected, resumed = np.load(reference_out / name), np.load(out / name)
        for key in expected.files:
            np.testing.assert_array_equal(resumed[key], expected[key], err_msg=f"{name}:{key}")
    np.testing.assert_array_equal(_trajectory(out).xyz, _trajectory(reference_out).xyz)


def test_settings_are_checked(butane, tmp_path):
    with pytest.raises(ConfigError, match="ladders: must be positive"):
        run_langevin_reference(tmp_path / "a", butane, LangevinSettings((300.0,), n_ladders=0), 5)
    with pytest.raises(ConfigError, match="temperatures: must increase"):
        run_langevin_reference(tmp_path / "b", butane, LangevinSettings((300.0, 250.0)), 5)
    with pytest.raises(ConfigError, match="not a CHARMM molecule"):
        run_langevin_reference(tmp_path / "c", systems.load("double_well_2d"), TINY, 5)
    with pytest.raises(ConfigError, match="temperatures: must be positive and finite"):
        run_langevin_reference(tmp_path / "d", butane, LangevinSettings((300.0, math.inf)), 20)
    with pytest.raises(ConfigError, match="save_every: 10 exceeds the 5 iterations"):
        run_langevin_reference(tmp_path / "e", butane, LangevinSettings((300.0, 400.0)), 5)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["butane", "--tmax", "200"], "tmax: must exceed"),
        (["butane", "--ladders", "0"], "ladders: must be positive"),
        (["butane", "--replicas", "0"], "replicas: need at least one"),
        (["butane", "--timestep", "0"], "timestep: must be positive"),
        (["butane", "--constraints", "hbonds"], "--constraints not used by --engine langevin"),
        (["butane", "--threads", "0"], "threads: must be positive"),
        (["butane", "--device", "gpu0"], "not a device name"),
        (["butane", "--start", "missing.pdb"], "missing.pdb: trajectory file not found"),
        (["double_well_2d"], "not a CHARMM molecule"),
    ],
)
def test_cli_bad_settings_exit_2(arguments, message, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["reference", *arguments, "--engine", "langevin", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert message in error
    assert "Traceback" not in error
    assert not (out / "stats.json").exists()


def test_cli_run_extends_with_resume(tmp_path, capsys):
    out = tmp_path / "run"
    common = ["reference", "butane", "--engine", "langevin", "--out", str(out), "--no-progress"]
    common += ["--ladders", "3", "--replicas", "2", "--steps-per-iteration", "4"]
    common += ["--burn-in", "2", "--save-every", "1", "--threads", "1"]
    assert main([*common, "--iterations", "6"]) == 0
    assert "trans" in capsys.readouterr().out
    first = np.load(out / "series.npz")["energy"]
    assert main([*common, "--iterations", "9", "--resume"]) == 0
    series = np.load(out / "series.npz")["energy"]
    assert series.shape == (9, 3)
    np.testing.assert_array_equal(series[:6], first)
    frames = np.load(out / "frames.npz")
    np.testing.assert_array_equal(frames["iteration"], np.tile(np.arange(1, 10), 3))


@pytest.mark.parametrize("suffix", ["pdb", "dcd"])
def test_cli_start_structures_are_where_the_ladders_begin_in_turn(tmp_path, butane, suffix):
    # a dcd (no topology of its own, as an earlier run's trajectory.dcd) is read with the
    # system's pdb as topology
    rotation = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    starts = np.stack([butane.positions @ rotation.T + 0.5, butane.positions])
    start_file = tmp_path / f"starts.{suffix}"
    mdtraj.Trajectory(starts.astype(np.float32), butane.topology).save(str(start_file))
    out = tmp_path / "run"
    arguments = ["reference", "butane", "--engine", "langevin", "--out", str(out)]
    arguments += ["--start", str(start_file), "--no-progress", "--ladders", "3"]
    arguments += ["--replicas", "2", "--steps-per-iteration", "1", "--burn-in", "0"]
    arguments += ["--iterations", "1", "--save-every", "1", "--threads", "1"]
    assert main(arguments) == 0
    frames = mdtraj.load(str(out / "trajectory.dcd"), top=str(out / "topology.pdb")).xyz
    ladders = np.load(out / "frames.npz")["chain"]

    def centred(x):
        return x - x.mean(axis=-2, keepdims=True)

    # One 1 fs step moves atoms by ~0.001 nm (thermal speeds ~1 nm/ps); PDB rounding adds
    # 0.0005 nm and mass- against plain centring differs by a rigid shift removed here.
    for frame, ladder in zip(frames, ladders, strict=True):
        own = np.abs(centred(frame) - centred(starts[ladder % 2])).max()
        other = np.abs(centred(frame) - centred(starts[1 - ladder % 2])).max()
        assert own < 0.01 < 0.1 < other
    starts_check = json.loads((out / "stats.json").read_text())["starts"]
    assert set(starts_check["populations"]) == {"start 0", "start 1"}
    assert set(starts_check["differences"]) == {"start 1 - start 0"}


def test_cli_start_structure_of_another_molecule_is_refused(tmp_path, butane, capsys):
    dialanine = systems.load("dialanine")
    path = tmp_path / "dialanine.pdb"
    mdtraj.Trajectory(dialanine.positions[None], dialanine.topology).save_pdb(str(path))
    arguments = ["reference", "butane", "--engine", "langevin", "--out", str(tmp_path / "run")]
    assert main([*arguments, "--start", str(path)]) == 2
    assert "22 atoms, but butane has 14" in capsys.readouterr().err


def _openmm_energies(n_samples: int, stride: int, friction: float) -> np.ndarray:
    """Potential energies (kJ/mol) of butane along one OpenMM LangevinMiddle run at 300 K."""
    target = reference_target("butane")
    integrator = openmm.LangevinMiddleIntegrator(
        300.0 * unit.kelvin, friction / unit.picosecond, 0.001 * unit.picoseconds
    )
    integrator.setRandomNumberSeed(11)
    context = openmm.Context(
        target.openmm_system, integrator, openmm.Platform.getPlatformByName("Reference")
    )
    context.setPositions(target.positions)
    context.setVelocitiesToTemperature(300.0 * unit.kelvin, 12)
    integrator.step(5000)
    energies = np.empty(n_samples)
    for index in range(n_samples):
        integrator.step(stride)
        state = context.getState(getEnergy=True)
        energies[index] = state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
    return energies


def test_butane_mean_energy_agrees_with_openmm_langevin(butane):
    """⟨U⟩ at 300 K: torch replica exchange (32 ladders of 300/400 K) against one OpenMM
    LangevinMiddleIntegrator run of the System built from the same psf/prm.

    Both use the same scheme and 1 fs step, so even the discretisation error is shared;
    a friction of 20/ps (the stationary distribution does not depend on it) makes the
    energy decorrelate within ~50 fs. Errors: torch, spread of the 32 ladders' means
    (~0.3 kJ/mol); OpenMM, pymbar statistical inefficiency of its series (~0.3 kJ/mol).
    4 combined standard errors (~1.7 kJ/mol) is a 1e-4 false alarm, and still finds a
    thermostat off by 10 K (⟨U⟩ moves by about 21 k_B ΔT ≈ 1.7 kJ/mol).
    """
    sampler = LangevinTempering(
        energy_and_forces_function(butane.energy(dtype=torch.float32)),
        forcefields.read_charmm(butane.psf, list(butane.prm)).masses,
        [300.0, 400.0],
        butane.positions,
        n_ladders=32,
        steps_per_iteration=20,
        friction=20.0,
        burn_in_iterations=50,
        seed=4,
    )
    sampler.run(150)
    ladder_means = sampler.recorded_energies().numpy().mean(axis=0)
    torch_mean = ladder_means.mean()
    torch_sem = ladder_means.std(ddof=1) / math.sqrt(len(ladder_means))

    reference = _openmm_energies(n_samples=4000, stride=20, friction=20.0)
    openmm_sem = reference.std() * math.sqrt(statistical_inefficiency(reference) / len(reference))
    combined = math.hypot(torch_sem, openmm_sem)
    assert combined < 0.8
    assert abs(torch_mean - reference.mean()) < 4.0 * combined, (
        torch_mean,
        torch_sem,
        reference.mean(),
        openmm_sem,
    )


@pytest.mark.slow
def test_compiled_steps_follow_the_eager_ones(butane):
    """``torch.compile`` changes only rounding: 20 float64 steps stay within 1e-6 nm."""
    positions = []
    for compiled in (False, True):
        sampler = LangevinTempering(
            energy_and_forces_function(butane.energy(dtype=torch.float64)),
            forcefields.read_charmm(butane.psf, list(butane.prm)).masses,
            [300.0, 400.0],
            butane.positions,
            n_ladders=2,
            steps_per_iteration=10,
            burn_in_iterations=0,
            dtype=torch.float64,
            compile=compiled,
        )
        sampler.run(2)
        positions.append(sampler.positions)
    torch.testing.assert_close(positions[1], positions[0], rtol=0.0, atol=1e-6)
