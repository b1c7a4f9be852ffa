"""Reading a JSON object from a file, with typed errors that name the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from forcefields.errors import InputFileError

__all__ = ["read_json_object"]


def read_json_object(path: Path | str, what: str = "a JSON object") -> dict[str, Any]:
    """The JSON object stored in ``path``.

    Arguments:
        path: the file.
        what: how the error names the expected content (``"a JSON object of settings"``).

    Raises:
        InputFileError: the file is missing or unreadable, is not valid UTF-8 JSON, or
            holds something other than an object; the message names ``path``.
    """
    try:
        content = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        reason = " ".join(str(error).split())
        raise InputFileError(f"{path}: not readable as JSON ({reason})") from error
    if not isinstance(content, dict):
        raise InputFileError(f"{path}: expected {what}, got {type(content).__name__}")
    return content
