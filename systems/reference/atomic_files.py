"""Atomic file writes: a killed run never leaves a half-written output or checkpoint.

Every writer goes through :func:`atomic_path`, which hands out a temporary name in the
destination folder and renames it over the destination only once the write succeeded.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "atomic_path",
    "write_json_atomic",
    "save_npz_atomic",
    "save_torch_atomic",
    "save_trajectory_atomic",
]


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` (same suffix); rename it onto ``path`` on success.

    On any exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix
    )
    os.close(handle)
    temporary = Path(temporary)
    try:
        yield temporary
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_json_atomic(path: Path | str, payload: dict[str, Any]) -> None:
    """Write ``payload`` as indented JSON (non-finite floats as ``null``)."""
    text = json.dumps(_finite_or_none(payload), indent=2, allow_nan=False) + "\n"
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def save_npz_atomic(path: Path | str, **arrays: np.ndarray) -> None:
    """``numpy.savez`` of ``arrays`` to ``path`` (which should end in ``.npz``)."""
    with atomic_path(path) as temporary, open(temporary, "wb") as stream:
        np.savez(stream, **arrays)


def save_torch_atomic(path: Path | str, payload: dict[str, Any]) -> None:
    """``torch.save`` of a dict of tensors, numbers and strings (loadable with ``weights_only``)."""
    import torch

    with atomic_path(path) as temporary:
        torch.save(payload, temporary)


def save_trajectory_atomic(path: Path | str, trajectory) -> None:
    """Save an ``mdtraj.Trajectory`` as DCD (``.dcd``, coordinates only) or PDB (``.pdb``)."""
    path = Path(path)
    savers = {".dcd": trajectory.save_dcd, ".pdb": trajectory.save_pdb}
    if path.suffix not in savers:
        raise ValueError(f"{path}: expected a .dcd or .pdb file name")
    with atomic_path(path) as temporary:
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
