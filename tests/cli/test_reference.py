"""``molgen reference``: bad input found before the output folder is made, a garbled
``run.json`` named, plain paths in messages, --friction named as typed, unstable
dynamics reported as such."""

from __future__ import annotations

import json
import shutil

import pytest

import systems
from cli.main import main
from tests.reliability.cli_contract import assert_cli_rejects

QUICK = ["--iterations", "5", "--no-progress"]


@pytest.fixture
def mismatched_folder(tmp_path):
    """A system folder: dialanine's psf and pdb with butane's parameters (no CT3 type)."""
    folder = tmp_path / "f2"
    folder.mkdir()
    dialanine, butane = systems.load("dialanine"), systems.load("butane")
    shutil.copy(dialanine.psf, folder / "dialanine.psf")
    shutil.copy(dialanine.pdb, folder / "dialanine.pdb")
    shutil.copy(butane.prm[0], folder / "butane.prm")
    return folder


def test_langevin_bad_parameters_leave_no_output_folder(mismatched_folder, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["reference", str(mismatched_folder), "--engine", "langevin", "--out", str(out)]
    assert main([*argv, *QUICK, "--save-every", "1"]) == 2
    assert "CT3" in capsys.readouterr().err
    assert not out.exists()


def test_openmm_bad_parameters_name_plain_paths(mismatched_folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["reference", str(mismatched_folder), "--out", str(out), *QUICK]) == 2
    error = capsys.readouterr().err
    assert f"{mismatched_folder / 'dialanine.psf'} + {mismatched_folder / 'butane.prm'}:" in error
    assert "PosixPath" not in error
    assert not out.exists()


@pytest.mark.parametrize("content", ['{"system": "doub', "[1, 2]", "\udcff"])
def test_resume_with_a_garbled_run_file_names_it(content, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text(content, errors="surrogateescape")
    assert main(["reference", "double_well_2d", "--out", str(out), "--resume", *QUICK]) == 2
    error = capsys.readouterr().err
    expected = ("not readable as JSON", "expected a JSON object of settings")
    assert any(f"{out / 'run.json'}: {reason}" in error for reason in expected)
    assert "Traceback" not in error


@pytest.mark.parametrize("engine", ["openmm", "langevin"])
def test_friction_is_named_as_typed(engine, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["reference", "butane", "--engine", engine, "--friction", "-1", "--out", out, *QUICK]
    assert_cli_rejects(argv, capsys, ["argument --friction: must be positive"], [out])


def test_resume_with_fewer_iterations_notes_the_iterations_done(tmp_path, capsys):
    out = tmp_path / "run"
    base = ["reference", "double_well_2d", "--out", str(out), "--no-progress"]
    assert main([*base, "--iterations", "8", "--chains", "2"]) == 0
    capsys.readouterr()
    assert main([*base, "--iterations", "3", "--chains", "2", "--resume"]) == 0
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "already 8 iterations" in error and "nothing to do" in error
    assert json.loads((out / "run.json").read_text())["iterations"] == 8


def test_populations_from_too_few_effective_frames_are_flagged(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["reference", "double_well_2d", "--out", str(out), "--chains", "1", *QUICK]
    assert main(argv) == 0
    stats = json.loads((out / "stats.json").read_text())
    assert stats["n_effective"] < 10
    lines = [line for line in capsys.readouterr().out.splitlines() if "+-" in line]
    assert lines
    flag = f"n_eff {stats['n_effective']:.0f}: not enough decorrelated frames"
    assert all(flag in line for line in lines)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["double_well_2d", "--tmax", "inf"], "tmax: must be finite"),
        (["double_well_2d", "--temperature", "inf", "--replicas", "1"], "temperature: must be"),
        (["butane", "--tmax", "inf"], "tmax: must be finite"),
    ],
)
def test_non_finite_temperatures_are_refused(arguments, message, tmp_path, capsys):
    """An infinite ladder end used to run (double wells: a ladder [1, inf, inf, inf]) or
    end in a traceback (OpenMM: OverflowError)."""
    out = tmp_path / "run"
    assert_cli_rejects(["reference", *arguments, "--out", out, *QUICK], capsys, [message], [out])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["butane", "--burn-in", "-5"], "burn_in: the openmm engine"),
        (["butane", "--burn-in", "100"], "burn_in: the openmm engine"),
        (["butane", "--start", "x.pdb"], "start: --start not used by the openmm engine"),
        # used to say "only --engine langevin starts from given structures", which a double
        # well cannot use
        (["double_well_2d", "--start", "x.pdb"], "start: --start not used by the double wells"),
        (
            ["double_well_2d", "--engine", "langevin", "--start", "x.pdb"],
            "double_well_2d is not a CHARMM molecule",
        ),
        (["butane", "--chains", "8"], "chains: --chains not used by the openmm engine"),
        (
            ["butane", "--ladders", "8", "--dtype", "float64"],
            "ladders: --ladders, --dtype not used by the openmm engine",
        ),
        (
            ["butane", "--engine", "langevin", "--platform", "CPU"],
            "platform: --platform not used by --engine langevin",
        ),
        (
            ["butane", "--engine", "langevin", "--constraints", "hbonds"],
            "constraints: --constraints not used by --engine langevin",
        ),
        (["double_well_2d", "--friction", "5"], "friction: --friction not used by the double"),
        (["double_well_2d", "--device", "cuda"], "device: --device not used by the double wells"),
        (["double_well_2d", "--replicas", "1", "--tmax", "3"], "tmax: a ladder of one replica"),
        (["double_well_2d", "--engine", "openmm"], "engine: --engine openmm samples CHARMM"),
    ],
)
def test_options_an_engine_would_ignore_are_refused(arguments, message, tmp_path, capsys):
    """--burn-in (openmm), --start (openmm, double wells) and every option of another
    sampler used to be silently ignored; --start with a double well and --engine langevin
    ended in an AttributeError traceback."""
    out = tmp_path / "run"
    assert_cli_rejects(["reference", *arguments, "--out", out, *QUICK], capsys, [message], [out])


def test_negative_openmm_seed_is_refused(tmp_path, capsys):
    """OpenMM seeds are derived from |seed|: --seed -1 gave exactly the numbers of --seed 1."""
    out = tmp_path / "run"
    argv = ["reference", "butane", "--seed", "-1", "--out", out, *QUICK]
    assert_cli_rejects(argv, capsys, ["--seed: must satisfy 0 <= seed < 2**32"], [out])


def test_langevin_without_any_saved_frame_is_refused(tmp_path, capsys):
    """Fewer iterations than --save-every kept no frame: an empty topology.pdb and a
    trajectory.dcd that mdtraj cannot open."""
    out = tmp_path / "run"
    argv = ["reference", "butane", "--engine", "langevin", "--save-every", "10", "--out", out]
    argv += ["--iterations", "3", "--ladders", "2", "--burn-in", "0", "--no-progress"]
    assert_cli_rejects(argv, capsys, ["save_every: 10 exceeds the 3 iterations"], [out])


def test_openmm_dynamics_that_blow_up_end_in_a_typed_error(tmp_path, capfd, caplog):
    """openmmtools' SimulationNaNError used to end the command in a traceback."""
    out = tmp_path / "run"
    argv = ["reference", "butane", "--timestep", "1000", "--out", str(out), *QUICK]
    assert main(argv) == 2
    error = capfd.readouterr().err
    assert "Traceback" not in error
    assert "OpenMM dynamics became unstable" in error and "smaller timestep than 1000 fs" in error
    # openmmtools' own ERROR/CRITICAL log lines used to precede the one-line error
    assert error.count("\n") == 1, error
    assert not [record for record in caplog.records if record.name.startswith("openmmtools")]
    assert "nan-error-logs" in error


@pytest.mark.parametrize(
    "arguments",
    [
        ["butane", "--engine", "openmm", "--constraints", "hbonds", "--timestep", "10"],
        ["butane", "--engine", "langevin", "--dtype", "float64", "--timestep", "10"]
        + ["--ladders", "2", "--replicas", "2", "--burn-in", "0", "--save-every", "1"],
    ],
    ids=["openmm", "langevin"],
)
def test_dynamics_that_fling_atoms_apart_end_in_a_typed_error(arguments, tmp_path, capfd):
    """Coordinates blown up to ~1e7 nm but finite passed the NaN checks and ended in
    mdtraj's ValueError traceback while topology.pdb was written."""
    out = tmp_path / "run"
    argv = ["reference", *arguments, "--iterations", "3", "--steps-per-iteration", "10"]
    assert main([*argv, "--no-progress", "--out", str(out)]) == 2
    error = capfd.readouterr().err
    assert "Traceback" not in error
    assert error.count("\n") == 1, error
    assert "dynamics became unstable at iteration" in error
    assert "nm from its molecule's centre, more than 100 nm" in error
    assert "smaller timestep than 10 fs" in error
    assert not (out / "topology.pdb").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["butane", "--timestep", "inf"], "argument --timestep: must be finite"),
        (["butane", "--engine", "langevin", "--timestep", "nan"], "--timestep: must be finite"),
        (["butane", "--timestep", "-1"], "argument --timestep: must be positive"),
        (["double_well_2d", "--temperature", "-1"], "argument --temperature: must be positive"),
        (["butane", "--tmax", "nan"], "argument --tmax: must be finite"),
    ],
)
def test_float_options_out_of_range_are_refused_up_front(arguments, message, tmp_path, capsys):
    """--timestep inf used to run, fail with 'a smaller timestep than inf fs' and leave a
    run.json holding "timestep": null."""
    out = tmp_path / "run"
    assert_cli_rejects(["reference", *arguments, "--out", out, *QUICK], capsys, [message], [out])


def test_the_summary_flags_by_the_frames_the_statistics_use(tmp_path):
    # 12,000 frames less 2 × 2,000 equilibration frames: 8,000 used, 80 effective frames
    # needed (as for withholding the free energies), not the 120 of all frames
    from cli.reference import _summary

    stats = {
        "system": "butane",
        "temperature": 300.0,
        "n_frames": 12_000,
        "n_chains": 2,
        "equilibration_frames": 2_000,
        "statistical_inefficiency": 80.0,
        "n_effective": 100.0,
        "populations": {"trans": {"mean": 0.6, "sem": 0.05}},
    }
    assert "not enough decorrelated frames" not in _summary(stats, tmp_path)
    assert "not enough decorrelated frames" in _summary({**stats, "n_effective": 79.0}, tmp_path)


def test_a_langevin_run_unstable_before_recording_anything_can_be_started_again(tmp_path, capsys):
    """Its folder holds only run.json; a new run with a sound timestep may replace it."""
    out = tmp_path / "run"
    argv = ["reference", "butane", "--engine", "langevin", "--ladders", "2", "--replicas", "2"]
    argv += ["--iterations", "4", "--steps-per-iteration", "2", "--burn-in", "0"]
    argv += ["--save-every", "1", "--no-progress", "--out", str(out)]
    assert main([*argv, "--timestep", "100"]) == 2
    assert "smaller timestep than 100 fs" in capsys.readouterr().err
    assert sorted(path.name for path in out.iterdir()) == ["run.json"]
    assert main(argv) == 0
    assert json.loads((out / "run.json").read_text())["timestep"] == 1.0
    assert (out / "stats.json").is_file()
