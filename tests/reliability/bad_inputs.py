"""The session-wide tally of distinct bad inputs the reliability suite has tried.

Each test that feeds molgen a malformed input records it here with :func:`record`; two
inputs are the same when their kind and bytes are. ``conftest.py`` prints the tally at
the end of the run and ``test_bad_input_count.py`` checks it.
"""

from __future__ import annotations

import hashlib

__all__ = ["MINIMUM_DISTINCT_BAD_INPUTS", "count", "record"]

MINIMUM_DISTINCT_BAD_INPUTS = 200

_seen: set[str] = set()


def record(kind: str, *parts: bytes | str) -> None:
    """Count the bad input made of ``parts`` (file contents, arguments) under ``kind``."""
    digest = hashlib.sha256(kind.encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else bytes(part)
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    _seen.add(digest.hexdigest())


def count() -> int:
    """Distinct bad inputs recorded so far in this session."""
    return len(_seen)
