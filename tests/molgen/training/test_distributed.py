"""Two CPU processes (gloo) training one model with DistributedDataParallel."""

from __future__ import annotations

import datetime
import os
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import systems
from molgen.training import (
    config_from_mapping,
    joined_process_group,
    leave_process_group,
    load_checkpoint,
    train,
)
from tests.molgen.training.identical import assert_identical_tensors
from tests.molgen.training.tiny import tiny_config


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _worker(
    rank: int,
    world_size: int,
    port: int,
    run_dir: str,
    out: str,
    mapping: dict | None = None,
    resume: bool = False,
    stop_at_step: int | None = None,
) -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world_size,
        timeout=datetime.timedelta(seconds=60),
    )
    try:
        config = config_from_mapping(mapping if mapping is not None else tiny_config())
        result = train(config, run_dir, resume=resume, stop_at_step=stop_at_step, progress=False)
        torch.save(result.flow.state_dict(), f"{out}/rank{rank}.pt")
    finally:
        leave_process_group()


def _train_two(run_dir, out, mapping=None, resume=False, stop_at_step=None) -> None:
    """Train ``mapping`` (default: the tiny config) in two gloo processes."""
    Path(out).mkdir(exist_ok=True)
    arguments = (2, _free_port(), str(run_dir), str(out), mapping, resume, stop_at_step)
    mp.spawn(_worker, args=arguments, nprocs=2)


def test_two_processes_train_one_model_and_rank_zero_writes(tmp_path):
    run_dir, out = tmp_path / "run", tmp_path / "out"
    _train_two(run_dir, out)
    first = torch.load(out / "rank0.pt", weights_only=True)
    second = torch.load(out / "rank1.pt", weights_only=True)
    final = load_checkpoint(run_dir / "checkpoints" / "final.pt")
    assert_identical_tensors(first, second)  # DDP keeps the replicas identical
    assert_identical_tensors(first, final["model"])
    # each process drew its own batches from its own stream
    streams = final["per_process"]
    assert len(streams) == 2
    assert not torch.equal(streams[0]["batches"], streams[1]["batches"])
    assert not torch.equal(streams[0]["global"]["torch"], streams[1]["global"]["torch"])
    # one writer: one metrics line per logging step, one set of checkpoints
    steps = [line for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line]
    assert len(steps) == 6
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir() if p.suffix == ".pt") == [
        "end_finetune.pt",
        "end_pretrain.pt",
        "final.pt",
        "step_000000020.pt",
        "step_000000024.pt",
    ]


def test_two_processes_resume_with_each_process_loss_state(tmp_path):
    # pl2_cb carries a cache of points from step to step, one per process; a run stopped
    # in the fine-tune and resumed must continue from each process's own cache
    _train_two(tmp_path / "whole", tmp_path / "out_whole")
    _train_two(tmp_path / "split", tmp_path / "out_split", stop_at_step=18)
    _train_two(tmp_path / "split", tmp_path / "out_split", resume=True)
    whole = load_checkpoint(tmp_path / "whole" / "checkpoints" / "final.pt")
    split = load_checkpoint(tmp_path / "split" / "checkpoints" / "final.pt")
    assert_identical_tensors(whole["model"], split["model"])
    for rank in (0, 1):
        assert torch.equal(
            whole["per_process"][rank]["loss_state"]["pl2_cb.cache"]["points"],
            split["per_process"][rank]["loss_state"]["pl2_cb.cache"]["points"],
        )


def test_two_processes_train_a_phase_that_leaves_part_of_the_model_untouched(tmp_path):
    # the hydrogen_energy phase trains the hydrogen network only, the next phase the heavy
    # atoms' flow only: DistributedDataParallel must accept parameters without gradients
    data = tmp_path / "data.npz"
    butane = systems.load("butane")
    noise = np.random.default_rng(0).normal(scale=0.01, size=(128, *butane.positions.shape))
    np.savez(data, x=butane.positions[None] + noise)
    phase = {
        "steps": 3,
        "batch_size": 32,
        "lr": 1.0e-3,
        "data": {"source": "file", "path": str(data)},
    }
    mapping = {
        "system": "butane",
        "seed": 3,
        "flow": {
            "preset": "molecule",
            "width": 8,
            "repeats": 1,
            "standardize": True,
            "hydrogens": "deterministic",
            "hydrogen_width": 8,
            "hydrogen_repeats": 1,
        },
        "metrics": {"every": 3, "samples": 0},
        "phases": [
            {"name": "hydrogens", "losses": {"hydrogen_energy": 1.0}, "clip": "default", **phase},
            {"name": "heavy", "losses": {"kl_z_dd": 1.0}, **phase},
        ],
    }
    _train_two(tmp_path / "run", tmp_path / "out", mapping)
    first = torch.load(tmp_path / "out" / "rank0.pt", weights_only=True)
    second = torch.load(tmp_path / "out" / "rank1.pt", weights_only=True)
    final = load_checkpoint(tmp_path / "run" / "checkpoints" / "final.pt")
    assert final["step"] == 6
    assert_identical_tensors(first, second)


def _worker_whose_rank_zero_fails(rank: int, port: int, run_dir: str) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE="2", RANK=str(rank)
    )
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
    if rank == 0:
        # the metrics log is written by rank 0 alone: its third record finds the disk full
        from molgen.training import metrics

        write = metrics.MetricsLog.append
        calls = []

        def full_disk(log, record):
            calls.append(record)
            if len(calls) == 3:
                raise OSError(28, "No space left on device")
            return write(log, record)

        metrics.MetricsLog.append = full_disk
    with joined_process_group("cpu"):
        train(config_from_mapping(tiny_config()), run_dir, progress=False)


def test_a_failure_on_one_process_ends_the_job_instead_of_hanging(tmp_path):
    # before, rank 0 waited in the exit barrier while rank 1 waited in the next gradient
    # all-reduce, both silent until gloo's 30-minute timeout
    context = mp.spawn(
        _worker_whose_rank_zero_fails,
        args=(_free_port(), str(tmp_path / "run")),
        nprocs=2,
        join=False,
    )
    deadline = time.monotonic() + 120  # the tiny run itself takes a few seconds
    try:
        with pytest.raises(mp.ProcessRaisedException, match="No space left on device"):
            while not context.join(timeout=2):
                assert time.monotonic() < deadline, "the processes hang after the failure"
    finally:
        for process in context.processes:
            process.kill()
