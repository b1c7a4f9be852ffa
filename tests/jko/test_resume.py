"""``molgen jko --resume``: an interrupted run continues to the numbers of an uninterrupted one;
checkpoints of another configuration or crafted pickles are refused."""

import json

import pytest

from cli.main import main
from molgen.jko.config import config_from_dict
from molgen.jko.run import run_experiment
from tests.jko.interrupted_flow import run_interrupted_at_step
from tests.reliability.crafted_pickle import write_crafted_checkpoint
from tests.reliability.interrupted_runs import assert_complete_files, kill_after, molgen_command

SMALL = {
    "preset": "porous",
    "dim": 1,
    "seed": 4,
    "evaluate_every": 2,
    "evaluation_samples": 400,
    "network": {"hidden": [8, 8]},
    "flow": {"step_size": 0.01, "steps": 5, "iterations": 15, "batch_size": 128, "cloud_size": 256},
}


def outputs(folder):
    metrics = json.loads((folder / "metrics.json").read_text())
    return metrics["metrics"], (folder / "steps.jsonl").read_text()


VARIATIONAL = {**SMALL, "preset": "ou", "dim": 2, "logdet": {"backend": "variational"}}


@pytest.mark.parametrize("settings", [SMALL, VARIATIONAL], ids=["porous", "ou_variational"])
def test_interrupted_run_resumes_to_identical_outputs(settings, tmp_path, monkeypatch):
    """The variational case also restores the entropy critic and its optimiser."""
    config = config_from_dict(settings)
    run_experiment(config, tmp_path / "whole", progress=False)
    run_interrupted_at_step(config, tmp_path / "resumed", monkeypatch, step=4)
    assert not (tmp_path / "resumed" / "metrics.json").exists()
    run_experiment(config, tmp_path / "resumed", progress=False, resume=True)
    # Steps 1-3 come from the checkpoint, 4-5 are recomputed from the restored flow and RNG:
    # same process and threads, so the numbers are identical, not merely close.
    assert outputs(tmp_path / "resumed") == outputs(tmp_path / "whole")


def write_small_config(tmp_path, **changes):
    path = tmp_path / "small.yaml"
    path.write_text(json.dumps({**SMALL, **changes}))  # JSON is YAML
    return path


def test_resume_refuses_other_configs_and_existing_runs(tmp_path, capsys):
    config = write_small_config(tmp_path)
    out = tmp_path / "run"
    assert main(["jko", str(config), "--out", str(out), "--quiet", "--resume"]) == 2
    assert "no checkpoint" in capsys.readouterr().err
    assert main(["jko", str(config), "--out", str(out), "--quiet"]) == 0
    assert main(["jko", str(config), "--out", str(out), "--quiet"]) == 2
    assert "--resume" in capsys.readouterr().err
    other = write_small_config(tmp_path, seed=5)
    assert main(["jko", str(other), "--out", str(out), "--quiet", "--resume"]) == 2
    assert "seed" in capsys.readouterr().err


def test_resume_refuses_a_crafted_checkpoint(tmp_path, capsys):
    config = write_small_config(tmp_path)
    out = tmp_path / "run"
    marker = tmp_path / "marker.txt"
    (out / "checkpoints").mkdir(parents=True)
    write_crafted_checkpoint(out / "checkpoints" / "flow.pt", marker)
    assert main(["jko", str(config), "--out", str(out), "--quiet", "--resume"]) == 2
    assert "holds objects other than tensors and plain data" in capsys.readouterr().err
    assert not marker.exists()


@pytest.mark.slow
def test_sigkilled_run_resumes_to_identical_outputs(tmp_path):
    import os
    import subprocess

    config = write_small_config(tmp_path, flow={**SMALL["flow"], "steps": 12})
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    for out, extra in ((whole, []), (killed, None), (killed, ["--resume"])):
        args = ["jko", config, "--out", out, "--quiet"]
        if extra is None:
            checkpoint = killed / "checkpoints" / "flow.pt"
            kill_after(args, killed, checkpoint.is_file, max_delay=0.3)
            continue
        result = subprocess.run(
            molgen_command(args + extra), env=environment, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr[-2000:]
    assert outputs(killed) == outputs(whole)
    assert assert_complete_files(killed) >= 5
