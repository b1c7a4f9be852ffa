"""Atomic output writers of reference runs: strict JSON and mdtraj trajectories.

Both go through :mod:`forcefields.atomic_files` (temporary file in the destination folder,
renamed on success) and leave files with mode 0644, like every reference output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from forcefields.atomic_files import atomic_path
from forcefields.atomic_files import write_json_atomic as _write_json

__all__ = ["write_json_atomic", "save_trajectory_atomic"]


def write_json_atomic(path: Path | str, payload: dict[str, Any]) -> None:
    """Write ``payload`` as indented JSON (non-finite floats as ``null``)."""
    _write_json(path, _finite_or_none(payload), allow_nan=False, mode=0o644)


def save_trajectory_atomic(path: Path | str, trajectory) -> None:
    """Save an ``mdtraj.Trajectory`` as DCD (``.dcd``, coordinates only) or PDB (``.pdb``)."""
    path = Path(path)
    savers = {".dcd": trajectory.save_dcd, ".pdb": trajectory.save_pdb}
    if path.suffix not in savers:
        raise ValueError(f"{path}: expected a .dcd or .pdb file name")
    with atomic_path(path, mode=0o644) as temporary:
        savers[path.suffix](str(temporary), force_overwrite=True)


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _finite_or_none(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_none(item) for item in value]
    if isinstance(value, np.ndarray):
        return _finite_or_none(value.tolist())
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    return value
