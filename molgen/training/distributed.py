"""Multi-process training helpers (``torchrun`` + ``DistributedDataParallel``).

Under ``torchrun`` every process runs the same trainer; :func:`process_group_from_environment`
joins the process group (gloo on CPU, nccl on CUDA). Outside it, :class:`Processes`
describes a single process and every collective is a no-op.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

__all__ = [
    "Processes",
    "current_processes",
    "joined_process_group",
    "leave_process_group",
    "process_group_from_environment",
    "shard_size",
]


@dataclass(frozen=True)
class Processes:
    """This process's place among the training processes.

    Attributes:
        rank: index of this process (0 writes metrics and checkpoints).
        world_size: number of processes.
    """

    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """Whether this process writes files."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """Whether collectives are needed."""
        return self.world_size > 1

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """Element-wise sum of ``values`` over processes (a copy; identity for one process)."""
        total = values.clone()
        if self.distributed:
            dist.all_reduce(total, op=dist.ReduceOp.SUM)
        return total

    def gather(self, value: Any) -> list[Any]:
        """``value`` of every process, in rank order (a one-element list for one process)."""
        if not self.distributed:
            return [value]
        gathered: list[Any] = [None] * self.world_size
        dist.all_gather_object(gathered, value)
        return gathered

    def barrier(self) -> None:
        """Wait for every process."""
        if self.distributed:
            dist.barrier()


def current_processes() -> Processes:
    """Rank and world size of the initialised process group (one process if none)."""
    if dist.is_available() and dist.is_initialized():
        return Processes(dist.get_rank(), dist.get_world_size())
    return Processes()


def process_group_from_environment(device: str) -> Processes:
    """Join the process group ``torchrun`` describes in ``WORLD_SIZE``/``RANK`` variables.

    Does nothing when ``WORLD_SIZE`` is unset or 1. Uses gloo for ``cpu`` and nccl for CUDA.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size > 1 and not dist.is_initialized():
        backend = "gloo" if device == "cpu" else "nccl"
        dist.init_process_group(backend=backend)
        if device.startswith("cuda"):
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return current_processes()


def leave_process_group() -> None:
    """Wait for every process, then tear the process group down (nothing if none is joined).

    The barrier keeps one process from closing its connections while another is still
    inside a collective; gloo aborts the late process otherwise.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


@contextmanager
def joined_process_group(device: str) -> Iterator[Processes]:
    """:func:`process_group_from_environment` for the ``with`` block, left on exit.

    An exception leaves without the barrier: a failure on one process (rank 0's disk
    full, say) would otherwise wait there for peers that wait in the next collective,
    until the backend's timeout (30 minutes), without a message. The peers' collective
    then fails as the connection closes, and ``torchrun`` ends the job.
    """
    processes = process_group_from_environment(device)
    try:
        yield processes
    except BaseException:
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
        raise
    leave_process_group()


def shard_size(batch_size: int, processes: Processes) -> int:
    """This process's share of a global batch: near-equal shares summing to ``batch_size``."""
    base, remainder = divmod(batch_size, processes.world_size)
    return base + (1 if processes.rank < remainder else 0)
