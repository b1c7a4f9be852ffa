"""``molgen run``: the whole pipeline on one molecule, into one run directory."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from cli.arguments import seed
from cli.outputs import check_output_folder
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
    parser.add_argument(
        "--out", type=Path, default=None, help="run directory (default: runs/SYSTEM)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes (under a minute): a smoke test"
    )
    parser.add_argument("--seed", type=seed, default=0, help="seed of every stage (default 0)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: the small batches run fastest on one core)",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="hide the progress bars of the reference, train and sample stages",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from molgen.pipeline import FULL, QUICK, run_pipeline

    if args.threads < 1:
        raise ConfigError(f"--threads: {args.threads} is smaller than 1")
    torch.set_num_threads(args.threads)
    out = args.out if args.out is not None else Path("runs") / args.system
    check_output_folder(out, "--out")
    settings = QUICK if args.quick else FULL
    try:
        outcome = run_pipeline(
            out,
            args.system,
            settings,
            args.seed,
            debug=args.debug,
            progress=not args.no_progress,
        )
    except KeyboardInterrupt:
        if args.debug:
            traceback.print_exc()
        print(
            f"molgen run: interrupted; run the same command again to continue in {out}",
            file=sys.stderr,
        )
        return 130
    print(f"report: {outcome.index}")
    if outcome.failed_checks:
        print(f"failed checks: {', '.join(outcome.failed_checks)} (see their output above)")
        return 1
    return 0
