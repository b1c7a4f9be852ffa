"""Atomic text writes: a killed build never leaves a half-written file behind."""

from __future__ import annotations

from pathlib import Path

from forcefields import atomic_files

__all__ = ["write_text_atomic"]


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename.

    The file is ASCII with Unix line ends and mode 0644, so a rebuild on any machine gives
    the same bytes.
    """
    atomic_files.write_text_atomic(path, text, encoding="ascii", mode=0o644)
