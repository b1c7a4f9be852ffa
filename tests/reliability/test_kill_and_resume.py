"""Kill-and-resume: ``molgen reference``, ``train`` and ``sample`` killed with SIGKILL at a
random moment after their first checkpoint and resumed give the outputs of an
uninterrupted run with the same seed, and never show a half-written file."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import mdtraj
import numpy as np
import pytest
import torch
import yaml

from tests.molgen.training.identical import assert_identical_tensors
from tests.molgen.training.tiny import tiny_config
from tests.reliability.interrupted_runs import assert_complete_files, kill_after, molgen_command

pytestmark = pytest.mark.slow


def _run(args) -> None:
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(molgen_command(args), capture_output=True, text=True, env=environment)
    assert result.returncode == 0, result.stderr[-2000:]


def _assert_same_npz(first: Path, second: Path) -> None:
    with np.load(first) as a, np.load(second) as b:
        assert sorted(a.files) == sorted(b.files)
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"{first.name}: {key}")


def _assert_no_temporaries(folder: Path) -> None:
    leftovers = [p for p in folder.rglob(".*") if p.suffix in (".tmp", ".pt", ".npz", ".json")]
    assert not leftovers, f"temporary files left after the resumed run: {leftovers}"


def test_reference_double_well_resumes_frame_for_frame(tmp_path):
    args = ["double_well_medium", "--replicas", "3", "--chains", "8", "--iterations", "900"]
    args += ["--burn-in", "20", "--seed", "3", "--no-progress"]
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    _run(["reference", *args, "--out", whole])
    checkpoint = killed / "checkpoint.pt"
    kill_after(["reference", *args, "--out", killed], killed, checkpoint.is_file, max_delay=1.0)
    _run(["reference", *args, "--out", killed, "--resume"])
    for name in ("samples.npz", "frames.npz", "ladder.npz"):
        _assert_same_npz(whole / name, killed / name)
    stats = [json.loads((folder / "stats.json").read_text()) for folder in (whole, killed)]
    assert stats[0] == stats[1]
    assert assert_complete_files(killed) >= 5


def test_reference_langevin_resumes_frame_for_frame(tmp_path):
    args = ["butane", "--engine", "langevin", "--ladders", "4", "--replicas", "2"]
    args += ["--steps-per-iteration", "5", "--burn-in", "10", "--iterations", "1500"]
    args += ["--dtype", "float64", "--threads", "1", "--seed", "3", "--no-progress"]
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    _run(["reference", *args, "--out", whole])
    checkpoint = killed / "checkpoint.pt"
    kill_after(["reference", *args, "--out", killed], killed, checkpoint.is_file, max_delay=1.0)
    _run(["reference", *args, "--out", killed, "--resume"])
    for name in ("series.npz", "frames.npz"):
        _assert_same_npz(whole / name, killed / name)
    stats = [json.loads((folder / "stats.json").read_text()) for folder in (whole, killed)]
    for stat in stats:  # timings differ between the two runs
        del stat["wall_time_s"], stat["sampling_wall_time_s"], stat["sampling_cpu_time_s"]
    assert stats[0] == stats[1]
    assert assert_complete_files(killed) >= 6


def _rewritten(path: Path) -> Callable[[], bool]:
    """A ``ready`` test for :func:`kill_after`: true once ``path`` has been modified after it
    first appeared (OpenMM's storage has then stored an iteration past its creation, so a
    kill cannot leave it empty)."""
    first: list[int] = []

    def ready() -> bool:
        if not path.is_file():
            return False
        modified = path.stat().st_mtime_ns
        first[:] = first or [modified]
        return modified != first[0]

    return ready


def _butane_killed_and_resumed(tmp_path: Path) -> tuple[np.ndarray, np.ndarray, int]:
    """Frames of an uninterrupted and of a killed-and-resumed butane run, and the number
    of iterations the killed run had stored."""
    from systems.reference.openmm_storage import read_tempering

    args = ["butane", "--replicas", "2", "--iterations", "200", "--steps-per-iteration", "50"]
    args += ["--seed", "5", "--no-progress"]
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    _run(["reference", *args, "--out", whole])
    kill_after(
        ["reference", *args, "--out", killed], killed, _rewritten(killed / "pt.nc"), max_delay=0.5
    )
    stored = read_tempering(killed / "pt.nc").positions.shape[0]
    _run(["reference", *args, "--out", killed, "--resume"])
    frames = [
        mdtraj.load(str(folder / "trajectory.dcd"), top=str(folder / "topology.pdb")).xyz
        for folder in (whole, killed)
    ]
    return frames[0], frames[1], stored


def test_reference_butane_resume_keeps_stored_frames_and_draws_new_noise(tmp_path):
    whole, resumed, stored = _butane_killed_and_resumed(tmp_path)
    assert whole.shape == resumed.shape == (200, 14, 3)
    assert 0 < stored < 200
    np.testing.assert_array_equal(whole[:stored], resumed[:stored])
    # documented (systems/reference/openmm_tempering.py): a resumed OpenMM run starts a
    # new integrator noise stream, so the frames after the kill are not the uninterrupted
    # run's; were they ever, the documentation would be wrong
    assert not np.array_equal(whole[stored:], resumed[stored:])


def _train_config(folder: Path) -> Path:
    config = tiny_config()
    config["checkpoints"] = {"every": 10, "keep": 2}
    config["metrics"] = {"every": 10, "samples": 256}
    for phase in config["phases"]:
        phase["steps"] = 120
    path = folder / "train.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _metrics(run: Path) -> list[dict]:
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for record in records:
        record.pop("seconds_per_step")
    return records


def test_train_resumes_bitwise(tmp_path):
    config = _train_config(tmp_path)
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    _run(["train", config, "--out", whole, "--no-progress"])

    def first_checkpoint() -> bool:
        return any((killed / "checkpoints").glob("step_*.pt"))

    kill_after(["train", config, "--out", killed, "--no-progress"], killed, first_checkpoint, 1.0)
    _run(["train", config, "--out", killed, "--resume", "--no-progress"])
    finals = [
        torch.load(run / "checkpoints" / "final.pt", weights_only=True) for run in (whole, killed)
    ]
    assert finals[0]["step"] == finals[1]["step"] == 240
    assert_identical_tensors(finals[0]["model"], finals[1]["model"])
    assert _metrics(whole) == _metrics(killed)
    _assert_no_temporaries(killed)


def test_sample_resumes_frame_for_frame(tmp_path):
    config = _train_config(tmp_path)
    run = tmp_path / "run"
    _run(["train", config, "--out", run, "--no-progress"])
    args = ["sample", run, "-n", "300000", "--batch", "3000", "--seed", "11", "--no-progress"]
    whole, killed = tmp_path / "whole.npz", tmp_path / "killed" / "killed.npz"
    killed.parent.mkdir()
    _run([*args, "--out", whole])
    parts = killed.parent / f".{killed.name}.parts"

    def first_chunk() -> bool:
        return parts.is_dir() and any(parts.glob("chunk_*.npz"))

    kill_after([*args, "--out", killed], killed.parent, first_chunk, max_delay=1.0)
    _run([*args, "--out", killed])
    _assert_same_npz(whole, killed)
    assert not parts.exists()
