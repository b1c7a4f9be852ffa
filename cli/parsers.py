"""The argparse parsers of ``molgen``: usage errors as one line, ``--debug`` everywhere.

argparse prints the usage and exits on a bad command line; these parsers raise
:class:`UsageError` instead, which ``molgen`` reports as one line with exit status 2 like
any other bad input. Every subcommand's parser (and its own subcommands') accepts
``--debug`` too, so it works after the subcommand as well as before it.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

__all__ = ["DEBUG_HELP", "MolgenParser", "SubcommandParser", "UsageError"]

DEBUG_HELP = "show tracebacks on errors"


class UsageError(Exception):
    """A command line that a parser rejected; the message names the parser's command."""


class MolgenParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors raise :class:`UsageError`."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


class SubcommandParser(MolgenParser):
    """The parser of a subcommand: accepts ``--debug``.

    Its default is suppressed, so that ``molgen --debug COMMAND`` keeps the top-level value.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP
        )
