"""``molgen validate-ff``: option ranges, the --tolerance help, the --json path and mode."""

from __future__ import annotations

import json

import pytest

from cli.main import main
from tests.reliability.cli_contract import assert_cli_rejects


@pytest.mark.parametrize(
    ("option", "value"),
    [("--noise", "-1"), ("--tolerance", "-1"), ("--tolerance", "nan"), ("--frames", "0")],
)
def test_out_of_range_values_are_one_line_usage_errors_naming_the_option(option, value, capsys):
    argv = ["validate-ff", "--system", "butane", option, value]
    assert_cli_rejects(argv, capsys, [f"argument {option}:"])


def test_tolerance_help_says_it_applies_to_energies_and_names_the_force_tolerance(capsys):
    with pytest.raises(SystemExit):
        main(["validate-ff", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "relative energy tolerance" in text
    assert "5e-05 float32, 1e-08 float64" in text
    assert "forces keep their own (0.0001 float32, 1e-08 float64)" in text


def test_json_into_a_folder_fails_before_the_check_naming_the_folder(tmp_path, capsys):
    folder = tmp_path / "adir"
    folder.mkdir()
    assert main(["validate-ff", "--system", "butane", "--frames", "2", "--json", str(folder)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no check was run
    assert (
        captured.err.strip()
        == f"molgen validate-ff: error: --json: {folder} is a folder, not a file"
    )
    assert list(folder.iterdir()) == []


def test_json_under_a_file_fails_before_the_check(tmp_path, capsys):
    (tmp_path / "afile").write_text("")
    out = tmp_path / "afile" / "report.json"
    assert main(["validate-ff", "--system", "butane", "--frames", "2", "--json", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "afile is not a folder" in captured.err


def test_json_report_is_readable_by_everyone(tmp_path):
    out = tmp_path / "new" / "report.json"
    assert main(["validate-ff", "--system", "butane", "--frames", "2", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["frames"] == 2
    assert out.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(("flag", "value"), [("--frames", "5"), ("--noise", "0.1")])
def test_perturbation_flags_with_a_trajectory_are_refused(flag, value, capsys):
    # used to be ignored silently: the trajectory's own frames were checked
    from systems.files import charmm_files

    pdb = str(charmm_files("butane").pdb)
    argv = ["validate-ff", "--system", "butane", "--traj", pdb, flag, value]
    assert_cli_rejects(argv, capsys, [f"{flag}: applies to the perturbed copies"])
