"""``molgen free-energy``: option ranges are usage errors; the --json path is checked first
and the file is readable by everyone."""

from __future__ import annotations

import pytest

from cli.main import main
from tests.molgen.estimate.conftest import double_well_samples
from tests.reliability.cli_contract import assert_cli_rejects


@pytest.fixture
def samples(tmp_path):
    return double_well_samples(tmp_path / "samples.npz", 500, 0.0, 1.5, seed=0)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--batch-size", "0", "must be a positive integer"),
        ("--temperature", "0", "must be positive"),
        ("--temperature", "-5", "must be positive"),
        ("--temperature", "nan", "must be finite"),
        ("--min-ess", "-1", "must be >= 0"),
        ("--min-ess-fraction", "2", "must lie in [0, 1]"),
        ("--min-ess-fraction", "-0.1", "must lie in [0, 1]"),
    ],
)
def test_out_of_range_values_are_usage_errors(samples, option, value, message, capsys):
    assert_cli_rejects(
        ["free-energy", str(samples), option, value], capsys, [f"argument {option}: {message}"]
    )


def test_json_into_a_folder_fails_before_the_estimates(samples, tmp_path, capsys):
    folder = tmp_path / "adir"
    folder.mkdir()
    argv = ["free-energy", str(samples), "--states", "major", "minor", "--json", str(folder)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and f"--json: {folder} is a folder" in captured.err


def test_json_is_readable_by_everyone(samples, tmp_path):
    out = tmp_path / "fe.json"
    status = main(["free-energy", str(samples), "--states", "major", "minor", "--json", str(out)])
    assert status in (0, 1)
    assert out.stat().st_mode & 0o777 == 0o644


def test_json_is_strict_when_bootstrap_resamples_hold_only_zero_weights(tmp_path, capsys):
    """With two weighted samples among a hundred zero weights (and the thresholds turned
    off) most bootstrap resamples have log Z = -inf; the interval's lower end is -inf,
    written as null, never as a bare NaN token that strict JSON readers refuse."""
    import json

    import numpy as np

    log_w = np.full(100, -np.inf)
    log_w[:2] = 0.0
    samples = tmp_path / "zero.npz"
    np.savez(samples, log_w=log_w, x=np.zeros((100, 2)), system=np.array("double_well_2d"))
    out = tmp_path / "fe.json"
    options = ["--min-ess", "0", "--min-ess-fraction", "0", "--json", str(out)]
    # exit 1: the populations of two effective samples are withheld; log Z is given
    assert main(["free-energy", str(samples), *options]) == 1
    assert "bootstrap [-inf, " in capsys.readouterr().out

    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    log_z = json.loads(out.read_text(), parse_constant=refuse)["log_z"]
    assert log_z["trusted"] and log_z["interval"][0] is None
    assert log_z["interval"][1] < 0


def test_json_replaces_its_own_earlier_report_but_no_other_file(samples, tmp_path, capsys):
    import json

    out = tmp_path / "fe.json"
    argv = ["free-energy", str(samples), "--states", "major", "minor", "--json", str(out)]
    assert main(argv) in (0, 1)
    assert json.loads(out.read_text())["written_by"] == "molgen free-energy"
    assert main(argv) in (0, 1)
    capsys.readouterr()
    notes = tmp_path / "notes.yaml"
    notes.write_text("system: butane\n")
    assert main([*argv[:-1], str(notes)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"--json: {notes} exists and was not written by molgen free-energy" in captured.err
    assert notes.read_text() == "system: butane\n"
