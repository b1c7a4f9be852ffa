"""Stopping a reference run on request (SIGINT, SIGTERM) at an iteration boundary.

The samplers take ``stop``, a callable asked after every completed iteration; when it
answers ``True`` they checkpoint that iteration and raise :class:`SamplingStopped`, so the
run continues from it with ``--resume``. The caller decides what a request is (``molgen
reference`` sets a flag from its signal handlers).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, Protocol

__all__ = ["SamplingStopped", "StopCheck", "checkpoint_and_stop"]

StopCheck = Callable[[], bool]
"""Asked after each completed iteration: ``True`` stops the run there."""


class SamplingStopped(Exception):
    """A sampler stopped on request after checkpointing its last completed iteration.

    Arguments:
        done: iterations completed (and checkpointed), burn-in included.
        total: iterations the run was asked for, burn-in included.
    """

    def __init__(self, done: int, total: int):
        super().__init__(f"stopped after iteration {done} of {total}")
        self.done = done
        self.total = total


class _Checkpointed(Protocol):
    """A sampler that counts its iterations and saves its full state to a file."""

    iteration: int

    def save(self, path: Path | str) -> None: ...


def checkpoint_and_stop(
    sampler: _Checkpointed, checkpoint: Path | str | None, total: int
) -> NoReturn:
    """Save ``sampler`` to ``checkpoint`` (when given) and raise :class:`SamplingStopped`."""
    if checkpoint is not None:
        sampler.save(checkpoint)
    raise SamplingStopped(sampler.iteration, total)
