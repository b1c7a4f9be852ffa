"""Mode weights under DistributedDataParallel: every rank sees the fractions of all."""

from __future__ import annotations

import datetime
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from molgen.losses import AdaptiveModeWeights, RatioModeWeights
from molgen.losses.reweighted import normalized_mode_weights


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _worker(rank: int, port: int, out: str) -> None:
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=2,
        timeout=datetime.timedelta(seconds=60),
    )
    try:
        # rank 0 holds only the major mode, rank 1 mostly the minor one: together 5:3
        labels = torch.tensor([0, 0, 0, 0]) if rank == 0 else torch.tensor([1, 1, 1, 0])
        adaptive = AdaptiveModeWeights([0.5, 0.5])
        for _ in range(3):
            adaptive(labels)
        ratio = RatioModeWeights([0.5, 0.5])(labels)
        # the minor mode only on rank 1, one point of eight: eq. 29's weights, normalised
        # over both batches, give it half the weight
        rare = torch.tensor([0, 0, 0, 0]) if rank == 0 else torch.tensor([0, 0, 0, 1])
        normalized = normalized_mode_weights(RatioModeWeights([0.5, 0.5])(rare))
        torch.save(
            {"multipliers": adaptive.multipliers, "ratio": ratio, "normalized": normalized},
            f"{out}/rank{rank}.pt",
        )
    finally:
        dist.barrier()
        dist.destroy_process_group()


def test_every_rank_adapts_its_mode_weights_to_the_fractions_of_all(tmp_path):
    mp.spawn(_worker, args=(_free_port(), str(tmp_path)), nprocs=2)
    first, second = (torch.load(tmp_path / f"rank{rank}.pt", weights_only=True) for rank in (0, 1))
    # 5 major and 3 minor labels over both ranks: the minor mode is under-represented, so
    # its multiplier grows by 1.01 per call and the major one shrinks, on each rank (alone,
    # rank 1 would see the minor mode over-represented and do the opposite)
    torch.testing.assert_close(first["multipliers"], second["multipliers"], rtol=0, atol=0)
    torch.testing.assert_close(
        first["multipliers"],
        torch.tensor([1.01**-3, 1.01**3], dtype=torch.float64),
        rtol=1e-15,
        atol=0,
    )
    # the ratio weights use the pooled fractions: 0.5 / (5/8) for the major mode
    assert first["ratio"].tolist() == [0.8] * 4
    assert second["ratio"][3].item() == 0.8
    # pooled eq. 29: 0.5 / (7/8) for the 7 major points, 0.5 / (1/8) = 4 for the minor one,
    # already averaging 1 over the 8 points (each rank normalising its own 4 gave the minor
    # mode 0.27 of the weight instead of 0.5)
    torch.testing.assert_close(first["normalized"], torch.full((4,), 4 / 7, dtype=torch.float64))
    expected_second = torch.tensor([4 / 7, 4 / 7, 4 / 7, 4.0], dtype=torch.float64)
    torch.testing.assert_close(second["normalized"], expected_second)
