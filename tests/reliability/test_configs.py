"""Invalid YAML configs end in a typed error naming the file and the field; ``molgen train``
and ``molgen jko`` exit 2 and create no output folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from forcefields.errors import ConfigError, InputFileError, MolgenError
from molgen.training import load_config
from tests.molgen.training.tiny import tiny_config
from tests.reliability import bad_inputs
from tests.reliability.cli_contract import assert_cli_rejects
from tests.reliability.config_mutations import (
    JKO_MUTATIONS,
    NOT_YAML,
    TRAIN_MUTATIONS,
    TRAIN_RUNTIME_MUTATIONS,
    Mutation,
    mutated,
)

JKO_BASE = yaml.safe_load((Path(__file__).resolve().parents[2] / "configs/jko/ou.yaml").read_text())


def _write(path: Path, data) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    bad_inputs.record(f"config {path.name}", path.read_bytes())
    return path


def _ids(mutations: list[Mutation]) -> list[str]:
    return [mutation.label for mutation in mutations]


@pytest.mark.parametrize("mutation", TRAIN_MUTATIONS, ids=_ids(TRAIN_MUTATIONS))
def test_train_config_is_rejected(mutation, tmp_path, capsys):
    config = _write(tmp_path / "train.yaml", mutated(tiny_config(), mutation))
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    message = str(raised.value)
    assert str(config) in message and mutation.field in message and "\n" not in message
    run = tmp_path / "run"
    assert_cli_rejects(["train", config, "--out", run], capsys, [config, mutation.field], [run])


@pytest.mark.parametrize("mutation", TRAIN_RUNTIME_MUTATIONS, ids=_ids(TRAIN_RUNTIME_MUTATIONS))
def test_train_rejects_names_unknown_at_start(mutation, tmp_path, capsys):
    config = _write(tmp_path / "train.yaml", mutated(tiny_config(), mutation))
    run = tmp_path / "run"
    assert_cli_rejects(["train", config, "--out", run, "--no-progress"], capsys, [mutation.field])


def test_train_leaves_no_run_directory_behind_a_late_config_error(tmp_path, capsys):
    bad = mutated(tiny_config(), TRAIN_RUNTIME_MUTATIONS[-2])
    config = _write(tmp_path / "train.yaml", bad)
    run = tmp_path / "run"
    assert_cli_rejects(["train", config, "--out", run, "--no-progress"], capsys, ["bogus"], [run])


@pytest.mark.parametrize("name", sorted(NOT_YAML))
def test_train_rejects_text_that_is_not_a_yaml_mapping(name, tmp_path, capsys):
    config = tmp_path / "train.yaml"
    config.write_bytes(NOT_YAML[name])
    bad_inputs.record("config train.yaml", NOT_YAML[name])
    with pytest.raises((ConfigError, InputFileError)) as raised:
        load_config(config)
    assert str(config) in str(raised.value)
    run = tmp_path / "run"
    assert_cli_rejects(["train", config, "--out", run], capsys, [config], [run])


def test_train_rejects_a_missing_config(tmp_path, capsys):
    config = tmp_path / "absent.yaml"
    bad_inputs.record("config path", str(config))
    assert_cli_rejects(["train", config, "--out", tmp_path / "run"], capsys, [config])


@pytest.mark.parametrize("mutation", JKO_MUTATIONS, ids=_ids(JKO_MUTATIONS))
def test_jko_config_is_rejected(mutation, tmp_path, capsys):
    config = _write(tmp_path / "jko.yaml", mutated(JKO_BASE, mutation))
    out = tmp_path / "out"
    assert_cli_rejects(["jko", config, "--out", out], capsys, [config, mutation.field], [out])


JKO_NOT_YAML = [name for name in sorted(NOT_YAML) if name != "empty"]


@pytest.mark.parametrize("name", JKO_NOT_YAML)
def test_jko_rejects_text_that_is_not_a_yaml_mapping(name, tmp_path, capsys):
    """(An empty jko config means "all defaults", a valid run, so it is not in this list.)"""
    config = tmp_path / "jko.yaml"
    config.write_bytes(NOT_YAML[name])
    bad_inputs.record("config jko.yaml", NOT_YAML[name])
    out = tmp_path / "out"
    assert_cli_rejects(["jko", config, "--out", out], capsys, [config], [out])


@pytest.mark.parametrize(
    "argv, field",
    [
        (["--dim", "0"], "dim"),
        (["--steps", "-1"], "steps"),
        (["--iterations", "-5"], "iterations"),
        (["--preset", "nope"], "preset"),
    ],
)
def test_jko_rejects_bad_flags(argv, field, tmp_path, capsys):
    bad_inputs.record("jko flags", *argv)
    out = tmp_path / "out"
    assert_cli_rejects(["jko", "--preset", "ou", *argv, "--out", out], capsys, [field], [out])


def test_jko_rejects_negative_baseline_particles(tmp_path, capsys):
    """0 baseline particles means "no baseline"; a negative count is an error."""
    argv = ["--baseline-particles", "-3", "--dim", "2", "--steps", "1", "--iterations", "1"]
    bad_inputs.record("jko flags", *argv)
    out = tmp_path / "out"
    assert_cli_rejects(["jko", "--preset", "ou", *argv, "--out", out], capsys, ["particles"], [out])


def test_errors_are_molgen_errors():
    assert issubclass(ConfigError, MolgenError) and issubclass(InputFileError, MolgenError)
