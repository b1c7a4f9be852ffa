"""Which MPI process does what when ``molgen reference`` runs under ``mpiexec``.

openmmtools spreads the replicas of a parallel-tempering run over the processes of an MPI
job (``mpiexec -n P molgen reference ...``, with ``mpi4py`` installed) and writes its
storage from the first one. The steps around it (preparing the output folder, exporting
trajectories and statistics, printing) are done once, by the first process, and their
result is sent to the others. Outside MPI every function here acts as in one process.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import mpiplus

__all__ = ["abort_other_processes", "any_process", "is_first_process", "on_first_process"]

Result = TypeVar("Result")


def _communicator():
    """The MPI communicator, or ``None`` outside an MPI job (mpiplus reads the launcher's
    environment variables)."""
    communicator = mpiplus.get_mpicomm()
    return None if communicator is None or communicator.size == 1 else communicator


def is_first_process() -> bool:
    """True outside MPI and on rank 0 of an MPI job."""
    communicator = _communicator()
    return communicator is None or communicator.rank == 0


def on_first_process(function: Callable[..., Result], *args: Any, **kwargs: Any) -> Result:
    """``function(*args, **kwargs)`` run by rank 0, its result sent to every process.

    An exception on rank 0 propagates there and is announced to the other processes,
    which leave quietly with status 2 (rank 0 reports the error once); the job ends
    without an abort, so no output of rank 0 is lost in the launcher.
    """
    global _others_told_of_failure
    communicator = _communicator()
    if communicator is None:
        return function(*args, **kwargs)
    if communicator.rank != 0:
        result = communicator.bcast(None, root=0)
        if isinstance(result, _FailedOnFirstProcess):
            raise SystemExit(2)
        return result
    try:
        result = function(*args, **kwargs)
    except BaseException:
        communicator.bcast(_FailedOnFirstProcess(), root=0)
        _others_told_of_failure = True
        raise
    return communicator.bcast(result, root=0)


def any_process(flag: bool) -> bool:
    """Whether ``flag`` is true on any process (every process must ask at the same point,
    so that all of them take the same branch); ``flag`` itself outside MPI."""
    communicator = _communicator()
    if communicator is None:
        return bool(flag)
    return any(communicator.allgather(bool(flag)))


def abort_other_processes(status: int) -> None:
    """End every process of an MPI job with ``status`` (after a failure on this one, which
    the others would wait for forever); nothing outside MPI, or where the failure was
    in :func:`on_first_process` and the others have already been told."""
    global _others_told_of_failure
    communicator = _communicator()
    if communicator is not None and not _others_told_of_failure:
        sys.stderr.flush()
        communicator.Abort(status)
    _others_told_of_failure = False


class _FailedOnFirstProcess:
    """What rank 0 sends the other processes in place of a result when it failed."""


_others_told_of_failure = False
