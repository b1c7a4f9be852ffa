"""``molgen train``: train a generator from a YAML config into a run directory.

Multi-process: ``torchrun --nproc_per_node N -m cli.main train CONFIG --out RUN``
(DistributedDataParallel; gloo on CPU). Only rank 0 writes files.

Exit status 1 when more than :data:`DIVERGED_FRACTION` of the steps were skipped for
non-finite losses or gradients: the checkpoints are kept, but the training diverged.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.arguments import seed
from cli.outputs import check_output_folder
from forcefields.errors import ConfigError, UnknownNameError

__all__ = ["register"]

DIVERGED_FRACTION = 0.5
"""Share of skipped steps above which a finished training is reported as diverged."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a generator (phases of losses) into a run directory",
        description=(
            "Run the phases of CONFIG (pre-training on data, data-free fine-tuning) and "
            "write RUN/config.yaml, RUN/checkpoints/, RUN/metrics.jsonl. Flags override "
            "the config keys of the same name. A killed run continues with --resume."
        ),
    )
    parser.add_argument("config", type=Path, help="YAML config (see configs/double_well/)")
    parser.add_argument("--out", type=Path, help="run directory (config key: out)")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from the last checkpoint (a run stopped before its first starts again)",
    )
    parser.add_argument("--device", help="cpu or cuda[:i] (config key: device)")
    parser.add_argument("--seed", type=seed, help="random seed (config key: seed)")
    parser.add_argument("--init", type=Path, help="checkpoint with starting weights (key: init)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from molgen.training import (
        TrainingInterrupted,
        joined_process_group,
        load_config,
        train,
    )

    config = load_config(args.config)
    if args.device is not None:
        if not (args.device == "cpu" or args.device.startswith("cuda")):
            raise ConfigError("--device: must be cpu or cuda[:index]")
        config.device = args.device
    if args.seed is not None:
        if args.seed < 0:
            raise ConfigError("--seed: must be non-negative")
        config.seed = args.seed
    if args.init is not None:
        config.init = str(args.init.resolve())
    if args.out is not None:
        config.out = str(args.out)
    if config.out is None:
        raise ConfigError("out: give --out RUN or the config key 'out'")
    check_output_folder(Path(config.out), "--out" if args.out is not None else "out")
    with joined_process_group(config.device) as processes:
        try:
            result = train(
                config, Path(config.out), resume=args.resume, progress=not args.no_progress
            )
        except TrainingInterrupted as stop:
            if processes.is_main:
                print(f"molgen train: {stop}", file=sys.stderr)
            return 130
        except (ConfigError, UnknownNameError) as error:
            # the config's values are checked against the system here: name the file
            message = str(error)
            if message.startswith(f"{args.config}:"):
                raise
            raise type(error)(f"{args.config}: {message}") from error
    diverged = result.skipped > DIVERGED_FRACTION * result.step
    if processes.is_main:
        print(
            f"trained {result.step} steps ({result.skipped} skipped); "
            f"last checkpoint: {result.checkpoint}"
        )
        if diverged:
            print(
                f"molgen train: {result.skipped} of {result.step} steps were skipped for "
                "non-finite losses or gradients: the training diverged (see metrics.jsonl; "
                "a smaller lr or a grad_clip may help)",
                file=sys.stderr,
            )
    return 1 if diverged else 0
