"""Checking an output file's path before the work whose result goes there, and writing
JSON results that a later run of the same command may replace."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from forcefields.atomic_files import JSON_WRITER_KEY, nearest_existing_folder, write_json_atomic
from forcefields.errors import ConfigError

__all__ = ["check_json_output", "check_output_file", "check_output_folder", "write_json_output"]


def check_output_file(path: Path, option: str) -> None:
    """Raise :class:`ConfigError` naming ``option`` unless a file can be written at ``path``.

    ``path`` must not be a folder, and its folder must exist or be creatable: the nearest
    existing ancestor is a folder the user may write in. Nothing is created.
    """
    if path.is_dir():
        raise ConfigError(f"{option}: {path} is a folder, not a file")
    folder = nearest_existing_folder(path)
    if not folder.is_dir():
        raise ConfigError(f"{option}: {path}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{option}: {path}: no permission to write in {folder}")


def check_output_folder(path: Path, option: str) -> None:
    """Raise :class:`ConfigError` naming ``option`` when ``path`` or its nearest existing
    ancestor is a file, so that a folder cannot be made there (instead of an OS error such
    as "Not a directory" from deep inside the run). Nothing is created."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option}: {path} is a file, not a folder for the output")
    if not path.exists():
        ancestor = nearest_existing_folder(path)
        if not ancestor.is_dir():
            raise ConfigError(f"{option}: {path}: {ancestor} is a file, not a folder")


def check_json_output(path: Path, option: str, command: str) -> None:
    """:func:`check_output_file`, and refuse an existing ``path`` that ``molgen command``
    did not write (a JSON object whose :data:`JSON_WRITER_KEY` names it), so that no other
    file is overwritten."""
    check_output_file(path, option)
    if not path.exists():
        return
    try:
        existing = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        existing = None
    if not isinstance(existing, dict) or existing.get(JSON_WRITER_KEY) != f"molgen {command}":
        raise ConfigError(
            f"{option}: {path} exists and was not written by molgen {command}; "
            "remove it or pass another path"
        )


def write_json_output(path: Path, payload: dict[str, Any], command: str) -> None:
    """Write ``payload`` to ``path`` atomically as JSON, marked as ``molgen command``'s."""
    write_json_atomic(path, {JSON_WRITER_KEY: f"molgen {command}", **payload}, mode=0o644)
