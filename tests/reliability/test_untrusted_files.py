"""Untrusted files: a crafted pickle where a checkpoint is expected is refused with a typed
error, and its code never runs; files a run writes stay inside its run directory."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import yaml

from cli.main import main
from forcefields.errors import ConfigError, InputFileError
from molgen.training import CheckpointError, load_checkpoint, load_config
from tests.molgen.training.tiny import tiny_config
from tests.reliability import bad_inputs
from tests.reliability.cli_contract import assert_cli_rejects
from tests.reliability.crafted_pickle import code_running_payload, write_crafted_checkpoint


@pytest.fixture
def crafted(tmp_path) -> tuple[Path, Path]:
    """``(checkpoint, marker)``: the crafted file and the file its code would write."""
    marker = tmp_path / "marker.txt"
    checkpoint = write_crafted_checkpoint(tmp_path / "crafted.pt", marker)
    bad_inputs.record("checkpoint", checkpoint.read_bytes())
    return checkpoint, marker


def test_the_payload_runs_code_when_unpickled(tmp_path):
    """Control: the object hidden in the crafted checkpoint does run code when unpickled."""
    marker = tmp_path / "marker"
    pickle.loads(pickle.dumps(code_running_payload(marker)))
    assert marker.read_text() == "code ran while loading a checkpoint"


def test_load_checkpoint_refuses_it(crafted):
    checkpoint, marker = crafted
    with pytest.raises(CheckpointError, match=str(checkpoint)) as raised:
        load_checkpoint(checkpoint)
    assert isinstance(raised.value, InputFileError)
    assert "\n" not in str(raised.value)
    assert not marker.exists()


def _run_directory(folder: Path) -> Path:
    run = folder / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.yaml").write_text(yaml.safe_dump(tiny_config()))
    return run


def test_molgen_sample_refuses_a_crafted_final_checkpoint(crafted, tmp_path, capsys):
    checkpoint, marker = crafted
    run = _run_directory(tmp_path)
    final = run / "checkpoints" / "final.pt"
    final.write_bytes(checkpoint.read_bytes())
    out = tmp_path / "samples.npz"
    argv = ["sample", run, "-n", "8", "--out", out, "--no-progress"]
    assert_cli_rejects(argv, capsys, [final], [out])
    assert not marker.exists()


def test_molgen_sample_refuses_a_crafted_checkpoint_argument(crafted, tmp_path, capsys):
    checkpoint, marker = crafted
    run = _run_directory(tmp_path)
    out = tmp_path / "samples.npz"
    argv = ["sample", run, "-n", "8", "--out", out, "--checkpoint", checkpoint, "--no-progress"]
    assert_cli_rejects(argv, capsys, [checkpoint], [out])
    assert not marker.exists()


def test_molgen_train_refuses_a_crafted_init(crafted, tmp_path, capsys):
    checkpoint, marker = crafted
    config = tmp_path / "train.yaml"
    config.write_text(yaml.safe_dump(tiny_config()))
    argv = ["train", config, "--out", tmp_path / "run", "--init", checkpoint, "--no-progress"]
    assert_cli_rejects(argv, capsys, [checkpoint], [tmp_path / "run"])
    assert not marker.exists()


def test_molgen_train_refuses_to_resume_from_a_crafted_checkpoint(crafted, tmp_path, capsys):
    checkpoint, marker = crafted
    config = tmp_path / "train.yaml"
    config.write_text(yaml.safe_dump(tiny_config()))
    run = _run_directory(tmp_path)
    periodic = run / "checkpoints" / "step_000000005.pt"
    periodic.write_bytes(checkpoint.read_bytes())
    argv = ["train", config, "--out", run, "--resume", "--no-progress"]
    assert_cli_rejects(argv, capsys, [periodic])
    assert not marker.exists()


def test_molgen_reference_refuses_a_crafted_checkpoint(crafted, tmp_path, capsys):
    checkpoint, marker = crafted
    out = tmp_path / "reference"
    argv = ["reference", "double_well_medium", "--out", out, "--replicas", "2", "--chains", "2"]
    argv += ["--iterations", "2", "--burn-in", "1", "--no-progress"]
    assert main([str(arg) for arg in argv]) == 0
    capsys.readouterr()
    (out / "checkpoint.pt").write_bytes(checkpoint.read_bytes())
    try:
        assert_cli_rejects(argv + ["--resume"], capsys, [out / "checkpoint.pt"])
    finally:
        assert not marker.exists()


@pytest.mark.parametrize("name", ["../escaped", "sub/dir", "/absolute", "..", "a b"])
def test_phase_names_cannot_place_checkpoints_outside_the_run(name, tmp_path):
    config = tiny_config()
    config["phases"][0]["name"] = name
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump(config))
    bad_inputs.record("config train.yaml", path.read_bytes())
    with pytest.raises(ConfigError, match=r"phases\[0\]\.name"):
        load_config(path)


def test_training_writes_only_inside_its_run_directory(tmp_path):
    from molgen.training import config_from_mapping, train

    config = tiny_config()
    config["phases"] = config["phases"][:1]
    config["phases"][0]["steps"] = 3
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    before = set(tmp_path.rglob("*"))
    train(config_from_mapping(config), workspace / "run", progress=False)
    created = set(tmp_path.rglob("*")) - before
    assert created
    assert all((workspace / "run") in path.parents or path == workspace / "run" for path in created)
