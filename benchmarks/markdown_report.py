"""Writing a benchmark's markdown report: to its file (atomically) and to standard output."""

from __future__ import annotations

from pathlib import Path

from forcefields.atomic_files import write_text_atomic


def publish_report(path: str | Path, lines: list[str]) -> None:
    """Write ``lines`` joined by newlines to ``path`` atomically, and print them."""
    text = "\n".join(lines)
    write_text_atomic(path, text)
    print(text)
