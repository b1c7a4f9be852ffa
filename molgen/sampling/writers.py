"""Atomic writer for sample trajectories (mdtraj, files of mode 0644), the checks of an
output path before sampling (a trajectory for a molecule, ``.npz`` for a toy), and the
name of the ``.npz`` sidecar."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from forcefields.atomic_files import ascii_named, atomic_path
from forcefields.errors import ConfigError

__all__ = [
    "TRAJECTORY_SUFFIXES",
    "check_arrays_path",
    "check_trajectory_path",
    "sidecar_path",
    "trajectory_files",
    "write_trajectory_atomic",
]

TRAJECTORY_SUFFIXES = (".h5", ".dcd", ".xtc", ".pdb")
_NEEDS_TOPOLOGY = (".dcd", ".xtc")


def check_trajectory_path(path: Path, option: str = "--out") -> None:
    """Raise :class:`ConfigError` naming ``option`` unless a trajectory can be written at
    ``path``: a suffix of :data:`TRAJECTORY_SUFFIXES`, and PyTables installed for ``.h5``."""
    path = Path(path)
    if path.suffix not in TRAJECTORY_SUFFIXES:
        raise ConfigError(
            f"{option}: {path}: a molecule needs one of {', '.join(TRAJECTORY_SUFFIXES)}"
        )
    if path.suffix == ".h5":
        try:
            import tables  # noqa: F401
        except ImportError as error:
            raise ConfigError(
                f"{option}: {path}: writing .h5 needs PyTables (pip install tables)"
            ) from error


def check_arrays_path(path: Path, option: str = "--out") -> None:
    """Raise :class:`ConfigError` naming ``option`` unless ``path`` ends in ``.npz`` or has no
    suffix (then ``.npz`` is appended, see :func:`sidecar_path`): a toy system writes only
    its per-sample arrays, and a trajectory suffix would promise a file never written."""
    path = Path(path)
    if path.suffix not in ("", ".npz"):
        raise ConfigError(
            f"{option}: {path}: a toy system writes only an .npz of its samples and "
            f"per-sample arrays, no trajectory; name it {path.with_suffix('.npz')}"
        )


def sidecar_path(out: Path) -> Path:
    """The per-sample ``.npz`` next to ``out``: ``out`` itself if it ends in ``.npz``,
    else ``out`` with ``.npz`` appended (``samples.dcd`` -> ``samples.dcd.npz``)."""
    out = Path(out)
    return out if out.suffix == ".npz" else out.with_name(out.name + ".npz")


def trajectory_files(path: Path) -> list[Path]:
    """The files a trajectory at ``path`` is written as: ``path``, plus its ``.pdb``
    topology for formats without one (``.dcd``, ``.xtc``)."""
    path = Path(path)
    return [path, path.with_suffix(".pdb")] if path.suffix in _NEEDS_TOPOLOGY else [path]


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
    written = trajectory_files(path)
    for target in written:
        frames = trajectory if target == path else trajectory[0]  # the topology: one frame
        with atomic_path(target, mode=0o644) as temporary:
            with ascii_named(temporary, "write") as writable:
                writable.unlink(missing_ok=True)
                frames.save(str(writable))
    return written
