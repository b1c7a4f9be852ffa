"""A checkpoint-shaped file whose unpickling would run code: it writes a marker file."""

from __future__ import annotations

from pathlib import Path

import torch

from molgen.training.checkpoints import CHECKPOINT_FORMAT

__all__ = ["code_running_payload", "write_crafted_checkpoint"]


class _WritesMarker:
    """Unpickled, calls ``Path(marker).write_text(...)``: stands for any code execution."""

    def __init__(self, marker: Path):
        self.marker = Path(marker)

    def __reduce__(self):
        return (Path.write_text, (self.marker, "code ran while loading a checkpoint"))


def code_running_payload(marker: Path) -> _WritesMarker:
    """The object that writes ``marker`` when it is unpickled."""
    return _WritesMarker(marker)


def write_crafted_checkpoint(path: Path, marker: Path) -> Path:
    """``torch.save`` a molgen-looking checkpoint dict that hides a :class:`_WritesMarker`."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "step": 1,
        "model": {"weight": torch.zeros(1)},
        "exploit": code_running_payload(marker),
    }
    torch.save(payload, path)
    return path
