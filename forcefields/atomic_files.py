"""Atomic file writes: a killed run leaves either the old file or the new one, never half.

Every writer goes through :func:`atomic_path`, which hands out a fresh temporary file in
the destination folder and renames it over the destination only once the write succeeded.
This module sits at the bottom layer so that every package may use it.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "JSON_WRITER_KEY",
    "NON_FINITE_KEY",
    "ascii_named",
    "atomic_path",
    "json_ready",
    "nearest_existing_folder",
    "remove_stale_temporaries",
    "non_finite_entries",
    "save_npz_atomic",
    "strict_json_text",
    "torch_save_atomic",
    "write_json_atomic",
    "write_text_atomic",
]


@contextmanager
def atomic_path(path: Path | str, *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The temporary file ``.<name>.<random><suffix>`` is created (empty, mode 0600) in
    ``path``'s folder, which is made if missing; it keeps ``path``'s suffix so writers that
    pick a format by suffix work. On success it gets permission bits ``mode`` (default:
    what a plain ``open`` would give, 0666 less the umask), is flushed to disk and replaces
    ``path``, and the rename itself is flushed, so a crash of the machine (not only of the
    process) leaves the old file or the whole new one. On any exception it is removed and
    ``path`` is left untouched.

    Raises:
        IsADirectoryError: ``path`` is a folder (raised before anything is created).
        OSError: writing failed; one without a file name (a full disk) gets ``path``'s.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, mode if mode is not None else _plain_file_mode())
        _flush_to_disk(temporary)
        os.replace(temporary, path)
        _flush_to_disk(path.parent)
    except OSError as error:
        if error.filename is not None or error.errno is None:
            raise
        # e.g. a full disk while writing: say which file could not be written
        raise type(error)(error.errno, error.strerror, str(path)) from error
    finally:
        temporary.unlink(missing_ok=True)


_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}(?P<suffix>(\.[^.]+)?)$")


def remove_stale_temporaries(*folders: Path | str) -> list[Path]:
    """Delete the temporary files a killed :func:`atomic_path` writer left in ``folders``.

    Only names of the form ``.<name>.<8 random characters><suffix of name>`` are removed,
    and only directly in each folder; a folder that does not exist has none. Call it only
    on folders no other process is writing to (e.g. a run being resumed). Returns the
    removed paths.
    """
    removed = []
    for path in (path for folder in folders for path in Path(folder).glob(".*")):
        match = _TEMPORARY.match(path.name)
        if path.is_file() and match and match["suffix"] == Path(match["name"]).suffix:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def nearest_existing_folder(path: Path | str) -> Path:
    """The folder a new file ``path`` would be written under, or its nearest existing
    ancestor when that folder does not exist yet (what would hold the created folders);
    it may be a file, which the caller reports."""
    folder = Path(path).absolute().parent
    while not folder.exists():
        folder = folder.parent
    return folder


@contextmanager
def ascii_named(path: Path | str, use: str) -> Iterator[Path]:
    """Yield a path with an ASCII name that stands for ``path``, for libraries that cannot
    encode other names (mdtraj's DCD and XTC code).

    An ASCII ``path`` is yielded itself. Otherwise the stand-in is a file of the same
    suffix in a fresh temporary folder: for ``use="read"`` a copy of ``path``; for
    ``use="write"`` copied onto ``path`` once the block succeeds.
    """
    if use not in ("read", "write"):
        raise ValueError(f"use must be 'read' or 'write', got {use!r}")
    path = Path(path)
    if str(path).isascii():
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="molgen-") as folder:
        stand_in = Path(folder) / f"file{path.suffix}"
        if use == "read":
            shutil.copyfile(path, stand_in)
        yield stand_in
        if use == "write":
            shutil.copyfile(stand_in, path)


def _plain_file_mode() -> int:
    """0666 less the process's umask: the bits ``open(path, "w")`` would give a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _flush_to_disk(path: Path) -> None:
    """``fsync`` a file or a folder (its entries) so it survives a crash of the machine."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_text_atomic(
    path: Path | str, text: str, *, encoding: str = "utf-8", mode: int | None = None
) -> None:
    """Write ``text`` to ``path`` in ``encoding`` with Unix line ends (see :func:`atomic_path`)."""
    with atomic_path(path, mode=mode) as temporary:
        with open(temporary, "w", encoding=encoding, newline="\n") as stream:
            stream.write(text)


JSON_WRITER_KEY = "written_by"
"""Key of a JSON result naming the command that wrote it (``"molgen free-energy"``)."""


NON_FINITE_KEY = "non_finite"
"""Key of a JSON object listing the non-finite numbers written as ``null`` in it."""


def json_ready(value: Any) -> Any:
    """``value`` with NumPy arrays and scalars as Python lists and numbers, tuples as
    lists, dict keys as strings, and every non-finite float as ``None``."""
    if isinstance(value, dict):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    return value


def non_finite_entries(value: Any, path: str = "") -> dict[str, str]:
    """``{"a/b/0": "inf" | "-inf" | "nan"}`` for every non-finite float in the nested
    ``value``, keyed by its path of dict keys and list indices below ``path``."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, dict):
        found: dict[str, str] = {}
        for key, item in value.items():
            found.update(non_finite_entries(item, f"{path}/{key}" if path else str(key)))
        return found
    if isinstance(value, list | tuple):
        found = {}
        for index, item in enumerate(value):
            found.update(non_finite_entries(item, f"{path}/{index}" if path else str(index)))
        return found
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return {path: str(float(value))}
    return {}


def strict_json_text(payload: Any, *, indent: int | None = None) -> str:
    """``payload`` as strict JSON (RFC 8259: no ``NaN`` or ``Infinity`` tokens).

    Non-finite floats become ``null`` (:func:`json_ready`); a dict ``payload`` that held
    any also gets :data:`NON_FINITE_KEY`, their :func:`non_finite_entries`, so a reader
    can tell a diverged value from a missing one.
    """
    text_ready = json_ready(payload)
    if isinstance(payload, dict):
        non_finite = non_finite_entries(payload)
        if non_finite:
            text_ready[NON_FINITE_KEY] = non_finite
    return json.dumps(text_ready, indent=indent, allow_nan=False)


def write_json_atomic(path: Path | str, payload: Any, *, mode: int | None = None) -> None:
    """Write ``payload`` as strict JSON (:func:`strict_json_text`) indented by 2, ending
    in a newline."""
    write_text_atomic(path, strict_json_text(payload, indent=2) + "\n", mode=mode)


def save_npz_atomic(
    path: Path | str, arrays: Mapping[str, np.ndarray], *, mode: int | None = None
) -> None:
    """``numpy.savez`` of ``arrays`` (name -> array) to ``path``, uncompressed."""
    with atomic_path(path, mode=mode) as temporary, open(temporary, "wb") as stream:
        np.savez(stream, **arrays)


def torch_save_atomic(path: Path | str, payload: Any, *, mode: int | None = None) -> None:
    """``torch.save`` of ``payload`` to ``path``."""
    import torch

    with atomic_path(path, mode=mode) as temporary:
        torch.save(payload, temporary)
