"""Atomic checkpoint files that load without unpickling arbitrary objects.

A checkpoint is a dict of tensors, numbers, strings, lists and dicts, written with
``torch.save`` to a temporary file in the same directory and renamed into place, and read
with ``torch.load(..., weights_only=True)``: a file holding any other object is refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from forcefields.atomic_files import torch_save_atomic
from forcefields.errors import InputFileError
from forcefields.torch_input import load_weights_only

__all__ = [
    "CHECKPOINT_FORMAT",
    "CheckpointError",
    "final_checkpoint",
    "latest_checkpoint",
    "load_checkpoint",
    "periodic_checkpoint_path",
    "phase_checkpoint_path",
    "prune_periodic_checkpoints",
    "save_checkpoint",
]

_FORMAT_FAMILY = "molgen.training.checkpoint/"
CHECKPOINT_FORMAT = _FORMAT_FAMILY + "2"
FINAL_NAME = "final.pt"
_PERIODIC = re.compile(r"^step_(\d+)\.pt$")


class CheckpointError(InputFileError):
    """A checkpoint file is missing, unreadable, not a molgen checkpoint, or unsafe to load."""


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` atomically (temporary file + ``os.replace``).

    Refuses (``ValueError``) a payload whose model parameters are not all finite, so a
    diverged state is never saved.
    """
    for name, value in payload["model"].items():
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise ValueError(f"refusing to checkpoint non-finite model tensor {name!r}")
    torch_save_atomic(path, {"format": CHECKPOINT_FORMAT, **payload})


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True``; raises :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    payload = load_weights_only(path, "molgen checkpoint", CheckpointError, device)
    written = payload.get("format") if isinstance(payload, dict) else None
    molgen_made = isinstance(written, str) and written.startswith(_FORMAT_FAMILY)
    if molgen_made and written != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path}: written by another molgen version (format {written!r}, this one reads "
            f"{CHECKPOINT_FORMAT!r}); train it again with this version"
        )
    if written != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a molgen training checkpoint")
    return payload


def periodic_checkpoint_path(directory: Path, step: int) -> Path:
    """``directory/step_{step:09d}.pt``."""
    return Path(directory) / f"step_{step:09d}.pt"


def phase_checkpoint_path(directory: Path, phase_name: str) -> Path:
    """``directory/end_{phase_name}.pt``: the state at the end of that phase."""
    return Path(directory) / f"end_{phase_name}.pt"


def final_checkpoint(directory: Path) -> Path:
    """``directory/final.pt``: the state after the last phase."""
    return Path(directory) / FINAL_NAME


def latest_checkpoint(directory: Path) -> Path | None:
    """``final.pt`` if present, else the ``step_*.pt`` with the highest step (``None``: none)."""
    directory = Path(directory)
    if (directory / FINAL_NAME).is_file():
        return directory / FINAL_NAME
    periodic = _periodic(directory)
    return periodic[-1][1] if periodic else None


def _periodic(directory: Path) -> list[tuple[int, Path]]:
    return sorted(
        (int(match.group(1)), path)
        for path in Path(directory).glob("step_*.pt")
        if (match := _PERIODIC.match(path.name))
    )


def prune_periodic_checkpoints(directory: Path, keep: int) -> None:
    """Delete all but the ``keep`` most recent ``step_*.pt`` files."""
    for _, path in _periodic(directory)[:-keep]:
        path.unlink(missing_ok=True)
