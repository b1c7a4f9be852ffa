"""Argument helpers shared by subcommands: CHARMM file selection and frames."""

from __future__ import annotations

import argparse
import contextlib
import io
from pathlib import Path

import numpy as np

from forcefields.errors import InputFileError, NonFiniteCoordinatesError, ShapeMismatchError

__all__ = [
    "add_charmm_arguments",
    "resolve_charmm_files",
    "load_frames",
]

MAX_REASON_LENGTH = 300


def add_charmm_arguments(parser: argparse.ArgumentParser) -> None:
    """``--system NAME [--variant V]`` or ``--psf P --prm R [R ...]``."""
    group = parser.add_argument_group("molecule (a built-in system, or your own CHARMM files)")
    group.add_argument("--system", help="built-in system: butane or dialanine")
    group.add_argument(
        "--variant", default="default", help="parameter-set variant (butane: default, lipid)"
    )
    group.add_argument("--psf", type=Path, help="CHARMM topology file")
    group.add_argument("--prm", type=Path, nargs="+", help="CHARMM parameter file(s)")


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


def load_frames(trajectory: Path, topology: Path | None) -> np.ndarray:
    """Frames ``(B, N, 3)`` in nm from any file mdtraj reads (``.dcd``, ``.h5``, ``.pdb``, ...).

    What mdtraj prints to stderr while reading (such as a missing-PyTables banner) is
    swallowed, so that a failure is reported as one line.

    Raises:
        InputFileError: a file is missing or mdtraj cannot read it.
        ShapeMismatchError: the trajectory has no frames.
        NonFiniteCoordinatesError: a frame holds NaN or infinite coordinates.
    """
    import mdtraj

    if not Path(trajectory).is_file():
        raise InputFileError(f"{trajectory}: trajectory file not found")
    if topology is not None and not Path(topology).is_file():
        raise InputFileError(f"{topology}: topology file not found")
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            if topology is None:
                frames = mdtraj.load(str(trajectory))
            else:
                frames = mdtraj.load(str(trajectory), top=str(topology))
    except Exception as error:
        message = " ".join(str(error).split())[:MAX_REASON_LENGTH]
        raise InputFileError(f"{trajectory}: mdtraj cannot read it ({message})") from error
    if frames.n_frames == 0:
        raise ShapeMismatchError(f"{trajectory}: the trajectory has no frames")
    xyz = frames.xyz.astype(np.float64)
    finite = np.isfinite(xyz).reshape(len(xyz), -1).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)[:10].tolist()
        raise NonFiniteCoordinatesError(
            f"{trajectory}: NaN or infinite coordinates in frame(s) {bad}"
        )
    return xyz
