"""``molgen run``: the whole pipeline on one molecule, into one run directory."""

from __future__ import annotations

import argparse
from pathlib import Path

from forcefields.errors import ConfigError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run",
        help="reference PT, pre-train, data-free fine-tune, sample, evaluate, free energy",
        description=(
            "Runs every stage for a molecule (default: butane) into one directory and writes "
            "index.md linking the plots. Re-running continues an interrupted run."
        ),
    )
    parser.add_argument("system", nargs="?", default="butane", help="molecule (default: butane)")
    parser.add_argument("--out", type=Path, default=Path("runs/butane"), help="run directory")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (minutes): a smoke test")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: the small batches run fastest on one core)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from molgen.pipeline import FULL, QUICK, run_pipeline

    if args.threads < 1:
        raise ConfigError(f"--threads: {args.threads} is smaller than 1")
    torch.set_num_threads(args.threads)
    index = run_pipeline(args.out, args.system, QUICK if args.quick else FULL, args.seed)
    print(f"report: {index}")
    return 0
