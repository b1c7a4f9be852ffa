"""A checkpoint-shaped file whose unpickling would run code: it writes a marker file."""

from __future__ import annotations

from pathlib import Path

import torch

__all__ = ["write_crafted_checkpoint"]


class _WritesMarker:
    """Unpickled, calls ``Path(marker).write_text(...)``: stands for any code execution."""

    def __init__(self, marker: Path):
        self.marker = Path(marker)

    def __reduce__(self):
        return (Path.write_text, (self.marker, "code ran while loading a checkpoint"))


def write_crafted_checkpoint(path: Path, marker: Path) -> Path:
    """``torch.save`` a molgen-looking checkpoint dict that hides a :class:`_WritesMarker`."""
    payload = {
        "format": "molgen.training.checkpoint/1",
        "step": 1,
        "model": {"weight": torch.zeros(1)},
        "exploit": _WritesMarker(marker),
    }
    torch.save(payload, path)
    return path
