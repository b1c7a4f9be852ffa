"""``molgen reference``: bad input found before the output folder is made, a garbled
``run.json`` named, plain paths in messages, --friction named as typed."""

from __future__ import annotations

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
    assert main([*argv, *QUICK]) == 2
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
    assert f"{out / 'run.json'}: not a" in error and "Traceback" not in error


@pytest.mark.parametrize("engine", ["openmm", "langevin"])
def test_friction_is_named_as_typed(engine, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["reference", "butane", "--engine", engine, "--friction", "-1", "--out", out, *QUICK]
    assert_cli_rejects(argv, capsys, ["argument --friction: must be positive"], [out])
