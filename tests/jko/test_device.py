"""``device`` of a ``molgen jko`` run: checked names, and GPU runs that match the CPU's maps
and resume exactly (the GPU tests run where CUDA is available)."""

import copy
import json

import pytest
import torch

from cli.main import main
from molgen.jko.config import JKOConfigError, config_from_dict
from molgen.jko.exact_logdet import ExactLogDet
from molgen.jko.flow import push
from molgen.jko.run import build_flow, run_experiment, seeded_problem
from tests.jko.interrupted_flow import run_interrupted_at_step

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

SMALL_OU = {
    "preset": "ou",
    "dim": 3,
    "seed": 2,
    "dtype": "float64",
    "evaluate_every": 2,
    "evaluation_samples": 500,
    "network": {"hidden": [16, 16]},
    "flow": {"step_size": 0.05, "steps": 4, "iterations": 20, "batch_size": 128, "cloud_size": 512},
}


def test_device_names_are_checked():
    with pytest.raises(JKOConfigError, match="device: 'gpu0' is not a device name"):
        config_from_dict({"device": "gpu0"})


def test_cuda_without_cuda_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(JKOConfigError, match="device: 'cuda' requested but CUDA is not available"):
        config_from_dict({"device": "cuda"})


def test_cli_device_flag_is_checked_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["jko", "--preset", "ou", "--device", "tpu7", "--out", str(out), "--quiet"])
    assert code == 2
    assert "device" in capsys.readouterr().err
    assert not out.exists()


def test_cli_device_flag_reaches_the_config(tmp_path):
    out = tmp_path / "run"
    arguments = ["jko", "--preset", "ou", "--dim", "2", "--steps", "1", "--iterations", "2"]
    assert main([*arguments, "--device", "cpu", "--out", str(out), "--quiet"]) == 0
    assert "device: cpu" in (out / "config.yaml").read_text()


@needs_cuda
def test_gpu_maps_and_log_determinants_match_the_cpu():
    """A flow trained on the CPU, its potentials and cloud moved to the GPU: the pushed
    particles and log-densities agree to float64 round-off (1e-9 leaves room for the
    different summation orders of the GPU's matrix products over 16-wide layers)."""
    config = config_from_dict(SMALL_OU)
    with seeded_problem(config) as problem:
        flow = build_flow(config, problem)
        flow.step()
        flow.step()
    potential = flow.potentials[-1]
    cloud, log_density = flow.particles, flow.log_density
    cpu_points, cpu_log_density = push(potential, cloud, log_density, ExactLogDet())
    gpu_potential = copy.deepcopy(potential).to("cuda")
    gpu_points, gpu_log_density = push(
        gpu_potential, cloud.to("cuda"), log_density.to("cuda"), ExactLogDet()
    )
    assert gpu_points.device.type == "cuda"
    torch.testing.assert_close(gpu_points.cpu(), cpu_points, rtol=0, atol=1e-9)
    torch.testing.assert_close(gpu_log_density.cpu(), cpu_log_density, rtol=0, atol=1e-9)


@needs_cuda
def test_gpu_run_keeps_its_tensors_on_the_gpu_and_resumes_exactly(tmp_path, monkeypatch):
    config = config_from_dict({**SMALL_OU, "device": "cuda"})
    whole = run_experiment(config, tmp_path / "whole", progress=False)
    assert all(value > 0 for value in whole["symkl"].values())
    state = torch.load(tmp_path / "whole" / "checkpoints" / "flow.pt", weights_only=True)
    assert state["flow"]["particles"].device.type == "cuda"
    run_interrupted_at_step(config, tmp_path / "resumed", monkeypatch, step=3)
    run_experiment(config, tmp_path / "resumed", progress=False, resume=True)
    # Same GPU, same process: the restored CPU and CUDA generators give identical numbers.
    for name in ("whole", "resumed"):
        assert (tmp_path / name / "plots" / "marginals.png").is_file()
    first = json.loads((tmp_path / "whole" / "metrics.json").read_text())["metrics"]
    second = json.loads((tmp_path / "resumed" / "metrics.json").read_text())["metrics"]
    assert first == second
