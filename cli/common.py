"""Argument helpers shared by subcommands: CHARMM file selection, frames, JSON output."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from forcefields.errors import InputFileError, ShapeMismatchError

__all__ = [
    "add_charmm_arguments",
    "resolve_charmm_files",
    "load_frames",
    "write_json_atomic",
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
    """Frames ``(B, N, 3)`` in nm from any file mdtraj reads (``.dcd``, ``.h5``, ``.pdb``, ...)."""
    import mdtraj

    if not Path(trajectory).is_file():
        raise InputFileError(f"{trajectory}: trajectory file not found")
    if topology is not None and not Path(topology).is_file():
        raise InputFileError(f"{topology}: topology file not found")
    try:
        if topology is None:
            frames = mdtraj.load(str(trajectory))
        else:
            frames = mdtraj.load(str(trajectory), top=str(topology))
    except Exception as error:
        message = " ".join(str(error).split())
        raise InputFileError(f"{trajectory}: mdtraj cannot read it ({message})") from error
    if frames.n_frames == 0:
        raise ShapeMismatchError(f"{trajectory}: the trajectory has no frames")
    return frames.xyz.astype(np.float64)


def write_json_atomic(path: Path, payload: dict) -> None:
    """Write ``payload`` as JSON to ``path`` via a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w") as handle:
            json.dump(payload, handle, indent=2, sort_keys=False)
            handle.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
