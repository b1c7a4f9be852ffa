"""``molgen reference``: bad input exits 2 with a one-line message; a double-well run resumes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cli.main import main

SMALL_WELL = ["--iterations", "40", "--chains", "4", "--burn-in", "10", "--no-progress"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["no_such_system"], "system 'no_such_system': unknown"),
        (["double_well_medium", "--iterations", "-5"], "iterations: must be positive"),
        (["double_well_medium", "--replicas", "0"], "replicas: need at least one"),
        (["double_well_medium", "--tmax", "0.5"], "tmax: must exceed"),
        (["double_well_medium", "--chains", "0"], "chains: must be positive"),
        (["butane", "--steps-per-iteration", "0"], "steps_per_iteration: must be positive"),
        (["butane", "--variant", "nope"], "unknown variant 'nope'"),
        # beyond torch's seed range: used to be a traceback after run.json was written
        (["double_well_medium", "--seed", str(10**23)], "--seed: must satisfy 0 <= seed < 2**32"),
        (["butane", "--engine", "langevin", "--seed", str(2**64)], "--seed: must satisfy"),
        (["double_well_medium", "--seed", "-1"], "--seed: must satisfy"),
    ],
)
def test_bad_input_exits_2(arguments, message, tmp_path, capsys):
    assert main(["reference", *arguments, "--out", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err
    assert message in error
    assert "Traceback" not in error
    assert not (tmp_path / "run").exists()


def test_existing_folder_needs_resume(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "something").write_text("x")
    assert main(["reference", "double_well_2d", "--out", str(out), *SMALL_WELL]) == 2
    assert "pass --resume" in capsys.readouterr().err


def test_resume_needs_a_started_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["reference", "double_well_2d", "--out", str(out), "--resume"]) == 2
    assert "run.json missing" in capsys.readouterr().err


def test_double_well_run_resumes_with_more_iterations(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["reference", "double_well_2d", "--out", str(out), *SMALL_WELL]) == 0
    assert "minor" in capsys.readouterr().out
    first = np.load(out / "samples.npz")["x"].reshape(4, 40, 2)

    more = [*SMALL_WELL[2:], "--iterations", "70", "--resume"]
    assert main(["reference", "double_well_2d", "--out", str(out), *more]) == 0
    stats = json.loads((out / "stats.json").read_text())
    samples = np.load(out / "samples.npz")["x"].reshape(4, 70, 2)
    assert stats["n_frames"] == 4 * 70
    assert stats["system"] == "double_well_2d"
    np.testing.assert_array_equal(samples[:, :40], first)


def test_resume_with_other_settings_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["reference", "double_well_2d", "--out", str(out), *SMALL_WELL]) == 0
    changed = [*SMALL_WELL, "--seed", "9", "--resume"]
    assert main(["reference", "double_well_2d", "--out", str(out), *changed]) == 2
    assert "seed is 0" in capsys.readouterr().err


def test_resume_removes_the_temporary_files_of_a_killed_session(tmp_path, capsys):
    """A run killed while saving left ``.checkpoint.pt.<random>.pt``; resuming kept it."""
    out = tmp_path / "run"
    assert main(["reference", "double_well_2d", "--out", str(out), *SMALL_WELL]) == 0
    stale = [out / ".checkpoint.pt.abcd1234.pt", out / ".stats.json.x1y2z3w4.json"]
    for path in stale:
        path.write_bytes(b"half")
    assert main(["reference", "double_well_2d", "--out", str(out), *SMALL_WELL, "--resume"]) == 0
    assert not any(path.exists() for path in stale)
    assert (out / "checkpoint.pt").is_file()
