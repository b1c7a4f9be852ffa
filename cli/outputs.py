"""Checking an output file's path before the work whose result goes there."""

from __future__ import annotations

import os
from pathlib import Path

from forcefields.errors import ConfigError

__all__ = ["check_output_file"]


def check_output_file(path: Path, option: str) -> None:
    """Raise :class:`ConfigError` naming ``option`` unless a file can be written at ``path``.

    ``path`` must not be a folder, and its folder must exist or be creatable: the nearest
    existing ancestor is a folder the user may write in. Nothing is created.
    """
    if path.is_dir():
        raise ConfigError(f"{option}: {path} is a folder, not a file")
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise ConfigError(f"{option}: {path}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{option}: {path}: no permission to write in {folder}")
