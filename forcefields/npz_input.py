"""Reading every array of a ``.npz`` archive, with typed errors that name the file."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from forcefields.errors import InputFileError

__all__ = ["read_npz"]

MAX_REASON_LENGTH = 200


def read_npz(path: Path | str) -> dict[str, np.ndarray]:
    """``{name: array}`` of the ``.npz`` archive ``path`` (no pickled objects).

    Raises:
        InputFileError: the file is missing, is not a zip archive, is truncated or
            corrupt, or holds an object array; the message names ``path``.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: np.asarray(archive[key]) for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        reason = " ".join(str(error).split())[:MAX_REASON_LENGTH]
        raise InputFileError(f"{path}: not a readable .npz archive ({reason})") from error
