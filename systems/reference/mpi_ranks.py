"""Which MPI process does what when ``molgen reference`` runs under ``mpiexec``.

openmmtools spreads the replicas of a parallel-tempering run over the processes of an MPI
job (``mpiexec -n P molgen reference ...``, with ``mpi4py`` installed) and writes its
storage from the first one. The steps around it (preparing the output folder, exporting
trajectories and statistics, printing) are done once, by the first process, and their
result is sent to the others. Outside MPI every function here acts as in one process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import mpiplus

__all__ = ["abort_other_processes", "is_first_process", "on_first_process"]

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

    An exception on rank 0 propagates there; the command then ends the whole job with
    :func:`abort_other_processes` (the other processes wait for the result).
    """
    communicator = _communicator()
    if communicator is None:
        return function(*args, **kwargs)
    result = function(*args, **kwargs) if communicator.rank == 0 else None
    return communicator.bcast(result, root=0)


def abort_other_processes(status: int) -> None:
    """End every process of an MPI job with ``status`` (after a failure on this one, which
    the others would wait for forever); nothing outside MPI."""
    communicator = _communicator()
    if communicator is not None:
        communicator.Abort(status)
