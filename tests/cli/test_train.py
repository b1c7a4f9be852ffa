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


def test_a_diverged_training_exits_1_and_says_so(tmp_path, capsys):
    """lr 1e3 without clipping: the parameters overflow within a few steps and nearly
    every later step is skipped. It used to print 'trained' and exit 0; the sampled run
    then gave only NaN samples."""
    mapping = tiny_config(metrics={"every": 4, "samples": 0})
    mapping["phases"] = [mapping["phases"][0]]
    mapping["phases"][0].update(steps=20, lr=1.0e3)
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(mapping))
    assert main(["train", str(config), "--out", str(tmp_path / "run"), "--no-progress"]) == 1
    assert "the training diverged" in capsys.readouterr().err


def test_a_healthy_training_exits_0(tmp_path, capsys):
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(tiny_config()))
    assert main(["train", str(config), "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    assert "diverged" not in capsys.readouterr().err
