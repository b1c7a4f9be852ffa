"""Atomic output writers of reference runs: strict JSON and mdtraj trajectories.

Both go through :mod:`forcefields.atomic_files` (temporary file in the destination folder,
renamed on success) and leave files with mode 0644, like every reference output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from forcefields.atomic_files import ascii_named, atomic_path
from forcefields.atomic_files import write_json_atomic as _write_json

__all__ = ["write_json_atomic", "save_trajectory_atomic"]


def write_json_atomic(path: Path | str, payload: dict[str, Any]) -> None:
    """Write ``payload`` as indented strict JSON (non-finite floats as ``null``, listed
    under ``non_finite``)."""
    _write_json(path, payload, mode=0o644)


def save_trajectory_atomic(path: Path | str, trajectory) -> None:
    """Save an ``mdtraj.Trajectory`` as DCD (``.dcd``, coordinates only) or PDB (``.pdb``)."""
    path = Path(path)
    savers = {".dcd": trajectory.save_dcd, ".pdb": trajectory.save_pdb}
    if path.suffix not in savers:
        raise ValueError(f"{path}: expected a .dcd or .pdb file name")
    with atomic_path(path, mode=0o644) as temporary, ascii_named(temporary, "write") as writable:
        savers[path.suffix](str(writable), force_overwrite=True)
