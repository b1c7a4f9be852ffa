"""Two CPU processes (gloo) training one model with DistributedDataParallel."""

from __future__ import annotations

import datetime
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from molgen.training import config_from_mapping, leave_process_group, load_checkpoint, train
from tests.molgen.training.tiny import tiny_config


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _worker(rank: int, world_size: int, port: int, run_dir: str, out: str) -> None:
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
        result = train(config_from_mapping(tiny_config()), run_dir, progress=False)
        torch.save(result.flow.state_dict(), f"{out}/rank{rank}.pt")
    finally:
        leave_process_group()


def test_two_processes_train_one_model_and_rank_zero_writes(tmp_path):
    run_dir, out = tmp_path / "run", tmp_path / "out"
    out.mkdir()
    mp.spawn(_worker, args=(2, _free_port(), str(run_dir), str(out)), nprocs=2)
    first = torch.load(out / "rank0.pt", weights_only=True)
    second = torch.load(out / "rank1.pt", weights_only=True)
    final = load_checkpoint(run_dir / "checkpoints" / "final.pt")
    for name, tensor in first.items():
        assert torch.equal(tensor, second[name]), name  # DDP keeps the replicas identical
        assert torch.equal(tensor, final["model"][name]), name
    # each process drew its own batches from its own stream
    streams = final["rng"]
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
