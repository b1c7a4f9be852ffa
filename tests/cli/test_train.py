"""``molgen train`` flags checked like the config keys they override."""

from __future__ import annotations

import json

from cli.main import main
from tests.molgen.training.tiny import tiny_config


def test_a_device_flag_the_config_would_refuse_is_a_one_line_error(tmp_path, capsys):
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(tiny_config()))
    run = tmp_path / "run"
    assert main(["train", str(config), "--out", str(run), "--device", "mps"]) == 2
    error = capsys.readouterr().err
    assert "--device" in error and "Traceback" not in error
    assert not run.exists()


def test_errors_found_against_the_system_name_the_config_file(tmp_path, capsys):
    mapping = tiny_config()
    mapping["system"] = "butan"
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(mapping))
    run = tmp_path / "run"
    assert main(["train", str(config), "--out", str(run)]) == 2
    error = capsys.readouterr().err
    assert f"molgen train: error: {config}: system 'butan': unknown" in error
    assert not run.exists()
