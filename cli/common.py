"""Argument helpers shared by subcommands: CHARMM file selection, ESS thresholds."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.arguments import fraction, non_negative_float
from forcefields.errors import InputFileError

__all__ = [
    "add_charmm_arguments",
    "add_ess_threshold_arguments",
    "resolve_charmm_files",
]


def add_charmm_arguments(parser: argparse.ArgumentParser) -> None:
    """``--system NAME [--variant V]`` or ``--psf P --prm R [R ...]``."""
    group = parser.add_argument_group("molecule (a built-in system, or your own CHARMM files)")
    group.add_argument("--system", help="built-in system: butane or dialanine")
    group.add_argument(
        "--variant", default="default", help="parameter-set variant (butane: default, lipid)"
    )
    group.add_argument("--psf", type=Path, help="CHARMM topology file")
    group.add_argument("--prm", type=Path, nargs="+", help="CHARMM parameter file(s)")


def add_ess_threshold_arguments(parser: argparse.ArgumentParser) -> None:
    """``--min-ess`` and ``--min-ess-fraction``: the least effective sample size at which an
    estimate is given (:class:`molgen.estimate.ess.EssThreshold`)."""
    from systems.reference.populations import MIN_EFFECTIVE_FRACTION, MIN_EFFECTIVE_FRAMES

    parser.add_argument(
        "--min-ess",
        type=non_negative_float,
        default=float(MIN_EFFECTIVE_FRAMES),
        help=f"least effective samples (default {MIN_EFFECTIVE_FRAMES})",
    )
    parser.add_argument(
        "--min-ess-fraction",
        type=fraction,
        default=MIN_EFFECTIVE_FRACTION,
        help=f"least ESS / n (default {MIN_EFFECTIVE_FRACTION})",
    )


def resolve_charmm_files(args: argparse.Namespace) -> tuple[Path, list[Path], Path | None]:
    """``(psf, [prm, ...], pdb or None)`` from ``--system`` or ``--psf/--prm``."""
    if args.system is not None:
        if args.psf is not None or args.prm is not None:
            raise InputFileError("give either --system or --psf/--prm, not both")
        from systems.files import charmm_files

        files = charmm_files(args.system, args.variant)
        return files.psf, [files.prm], files.pdb
    if args.psf is None or args.prm is None:
        raise InputFileError("give --system NAME, or both --psf and --prm")
    return args.psf, list(args.prm), None
