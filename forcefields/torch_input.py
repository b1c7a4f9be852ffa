"""Reading a ``torch.save`` file with ``weights_only=True``, with a one-line reason on failure.

``torch.load(..., weights_only=True)`` unpickles only tensors, containers and plain data,
so a crafted file cannot run code. Its own error messages run to several paragraphs and
advise loading with ``weights_only=False``, which would run whatever the file holds; the
reason given here is one line and gives no such advice.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from forcefields.errors import InputFileError

__all__ = ["load_weights_only"]

MAX_REASON_LENGTH = 200

UNSAFE_REASON = (
    "it holds objects other than tensors and plain data, or is not a torch file; "
    "such files are never unpickled"
)


def load_weights_only(
    path: Path | str,
    what: str,
    error_type: type[InputFileError] = InputFileError,
    map_location: Any = "cpu",
) -> Any:
    """The object ``torch.save`` wrote to ``path``, read with ``weights_only=True``.

    Arguments:
        path: the file.
        what: what the file should be, for the message (``"molgen checkpoint"``).
        error_type: the :class:`InputFileError` subclass to raise.
        map_location: where tensors are put (``torch.load``'s argument).

    Raises:
        error_type: ``"{path}: not a readable {what} ({reason})"``, when the file is
            missing, truncated or corrupt, or holds more than tensors and plain data.
    """
    import torch

    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        raise error_type(f"{path}: not a readable {what} ({UNSAFE_REASON})") from error
    except Exception as error:  # torch raises several types for missing or corrupt files
        reason = " ".join(str(error).split()).split(". ")[0][:MAX_REASON_LENGTH]
        raise error_type(f"{path}: not a readable {what} ({reason})") from error
