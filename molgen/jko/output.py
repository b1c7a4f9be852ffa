"""Atomic writes of run outputs (temporary file in the same directory, then rename)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

__all__ = ["atomic_write", "write_json", "write_yaml", "write_text"]


def atomic_write(path: str | Path, write: Callable[[str], None]) -> None:
    """Calls ``write(temporary_path)`` then renames the file onto ``path``.

    A killed run leaves either the old file or the new one, never a half-written one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix
    )
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_text(path: str | Path, text: str) -> None:
    """Writes ``text`` atomically."""
    atomic_write(path, lambda temporary: Path(temporary).write_text(text))


def write_json(path: str | Path, data: Any) -> None:
    """Writes ``data`` as indented JSON atomically."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_yaml(path: str | Path, data: Any) -> None:
    """Writes ``data`` as YAML atomically."""
    write_text(path, yaml.safe_dump(data, sort_keys=False))
