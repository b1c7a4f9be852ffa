"""Keep library chatter (openmmtools and pymbar warnings, citation banners) off the console.

Progress bars and the command's own summary stay readable; errors still get through.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout

__all__ = ["quiet"]


@contextmanager
def quiet(*logger_names: str, level: int = logging.ERROR) -> Iterator[None]:
    """Raise the named loggers to ``level`` (default ERROR) and swallow stdout for the
    duration of the block."""
    loggers = [logging.getLogger(name) for name in logger_names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(level)
    try:
        with redirect_stdout(io.StringIO()):
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
