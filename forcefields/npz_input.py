"""Reading arrays of a ``.npz`` archive, with typed errors that name the file."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from forcefields.errors import InputFileError

__all__ = ["read_npz", "read_npz_names"]

MAX_REASON_LENGTH = 200


def read_npz(path: Path | str, keys: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """``{name: array}`` of the ``.npz`` archive ``path`` (no pickled objects).

    Arguments:
        path: the archive.
        keys: the arrays to read (those of them the archive holds); default every array.
            An object array the keys leave out is not read, so it does no harm.

    Raises:
        InputFileError: the file is missing, is not a zip archive, is truncated or
            corrupt, or a requested array is an object array; the message names ``path``.
    """
    with _archive(path) as archive:
        names = archive.files if keys is None else [key for key in keys if key in archive.files]
        return {key: np.asarray(archive[key]) for key in names}


def read_npz_names(path: Path | str) -> list[str]:
    """The names of the arrays in the ``.npz`` archive ``path`` (none is read).

    Raises:
        InputFileError: as :func:`read_npz`.
    """
    with _archive(path) as archive:
        return list(archive.files)


@contextmanager
def _archive(path: Path | str) -> Iterator[np.lib.npyio.NpzFile]:
    """The open archive; reading errors inside the block become :class:`InputFileError`."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            yield archive
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        reason = " ".join(str(error).split())[:MAX_REASON_LENGTH]
        raise InputFileError(f"{path}: not a readable .npz archive ({reason})") from error
    except TypeError as error:
        # np.load returns a bare array, not an archive, for .npy content
        raise InputFileError(f"{path}: a single .npy array, not a .npz archive") from error
