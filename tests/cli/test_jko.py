"""``molgen jko`` error messages: the command prefix and the file name appear once."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    return error


def test_without_config_or_preset_the_prefix_appears_once(tmp_path: Path, capsys) -> None:
    error = _error(["jko", "--out", str(tmp_path / "out")], capsys)
    assert error.count("molgen jko") == 1
    assert "give CONFIG.yaml or --preset" in error


def test_missing_config_is_named_once(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "missing.yaml"
    error = _error(["jko", str(missing), "--out", str(tmp_path / "out")], capsys)
    assert error.count("missing.yaml") == 1
    assert "cannot read YAML" in error


def test_invalid_config_field_is_named_with_its_file_once(tmp_path: Path, capsys) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("dim: -3\n")
    error = _error(["jko", str(config), "--out", str(tmp_path / "out")], capsys)
    assert error.count("bad.yaml") == 1
    assert "dim" in error
