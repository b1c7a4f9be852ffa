"""Atomic writers for sample files: ``.npz`` arrays and mdtraj trajectories."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["TRAJECTORY_SUFFIXES", "sidecar_path", "write_npz_atomic", "write_trajectory_atomic"]

TRAJECTORY_SUFFIXES = (".h5", ".dcd", ".xtc", ".pdb")
_NEEDS_TOPOLOGY = (".dcd", ".xtc")


def sidecar_path(out: Path) -> Path:
    """The per-sample ``.npz`` next to ``out``: ``out`` itself if it ends in ``.npz``,
    else ``out`` with ``.npz`` appended (``samples.dcd`` -> ``samples.dcd.npz``)."""
    out = Path(out)
    return out if out.suffix == ".npz" else out.with_name(out.name + ".npz")


def _temporary(path: Path) -> Path:
    descriptor, name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix
    )
    os.close(descriptor)
    return Path(name)


def write_npz_atomic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` to a temporary file in the same directory, then rename onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(path)
    try:
        with temporary.open("wb") as handle:
            np.savez(handle, **arrays)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_trajectory_atomic(path: Path, xyz: np.ndarray, topology) -> list[Path]:
    """Write frames ``xyz`` ``(n, N, 3)`` nm as an mdtraj trajectory at ``path``.

    The format follows the suffix (``.h5``, ``.dcd``, ``.xtc``, ``.pdb``); formats without
    a topology also get ``path.with_suffix('.pdb')`` (first frame). Returns the files written.
    """
    import mdtraj

    path = Path(path)
    if path.suffix not in TRAJECTORY_SUFFIXES:
        raise ValueError(
            f"{path}: trajectory suffix must be one of {', '.join(TRAJECTORY_SUFFIXES)}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    trajectory = mdtraj.Trajectory(np.asarray(xyz, dtype=np.float32), topology)
    written = [path]
    targets = [(path, trajectory)]
    if path.suffix in _NEEDS_TOPOLOGY:
        written.append(path.with_suffix(".pdb"))
        targets.append((path.with_suffix(".pdb"), trajectory[0]))
    for target, frames in targets:
        temporary = _temporary(target)
        try:
            temporary.unlink()
            frames.save(str(temporary))
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    return written
