"""The command line that reproduces a benchmark run, as recorded in its reports."""

from __future__ import annotations

import shlex
import sys

import torch


def rerun_command(module: str, argv: list[str] | None) -> str:
    """``OMP_NUM_THREADS=<threads> python -m <module> <arguments>`` for this process.

    Arguments:
        module: The benchmark's module, e.g. ``"benchmarks.jko"``.
        argv: The arguments ``main`` was given; ``None`` means the process's own.

    Returns:
        The command, with the torch thread count the run actually used.
    """
    arguments = sys.argv[1:] if argv is None else list(argv)
    threads = torch.get_num_threads()
    return f"OMP_NUM_THREADS={threads} python -m {module} {shlex.join(arguments)}"
