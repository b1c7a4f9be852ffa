"""Entry point of the ``molgen`` command.

Each subcommand lives in its own module under ``cli/`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a callable
taking the parsed arguments and returning an exit status.

Exit status: 0 success, 1 a check failed, 2 bad input or usage. Bad input (a
:class:`~forcefields.errors.MolgenError`, or an ``OSError`` on a file the user named) is
reported as one line on stderr, after its traceback when ``--debug`` is given (before or
after the subcommand), with the same exit status either way; so is a command line the
parser rejects (see :mod:`cli.parsers`).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import sys
import traceback

from cli.parsers import DEBUG_HELP, MolgenParser, SubcommandParser, UsageError
from forcefields.errors import MolgenError

SUBCOMMAND_MODULES = [
    "cli.validate_ff",
    "cli.bench",
    "cli.reference",
    "cli.jko",
    "cli.free_energy",
    "cli.evaluate",
    "cli.train",
    "cli.sample",
    "cli.run",
]


def build_parser() -> argparse.ArgumentParser:
    parser = MolgenParser(
        prog="molgen",
        description="Sample molecular conformations with Boltzmann generators.",
    )
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {importlib.metadata.version('molgen')}"
    )
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=SubcommandParser
    )
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except UsageError as error:
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("molgen: interrupted", file=sys.stderr)
        return 130
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        # what was written is kept: every long command resumes (see its --help)
        return _report(args, "interrupted", 130)
    except (MemoryError, RuntimeError, ValueError) as error:
        if not _is_out_of_memory(error):
            raise
        reason = _one_line(error) or type(error).__name__
        status = _report(
            args,
            f"error: out of memory ({reason}); ask for smaller sizes (batch, samples, "
            "particles, chains, network width)",
            2,
        )
        _abort_other_reference_processes(args.command)
        return status
    except (MolgenError, OSError) as error:
        status = _report(args, f"error: {_one_line(error)}", 2)
        _abort_other_reference_processes(args.command)
        return status


def _report(args: argparse.Namespace, message: str, status: int) -> int:
    """Prints ``molgen COMMAND: message`` on stderr, after the traceback of the exception
    being handled under ``--debug``, and returns ``status``."""
    if args.debug:
        traceback.print_exc()
    print(f"molgen {args.command}: {message}", file=sys.stderr)
    return status


OUT_OF_MEMORY_MESSAGES = (
    "can't allocate memory",
    "array is too big",
    "Storage size calculation overflowed",
)
"""Messages of allocations that failed without a ``MemoryError``: torch's CPU allocator,
and sizes whose byte count overflows (NumPy's ``ValueError``, torch's storage size)."""


def _is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is an allocation that failed: Python's or NumPy's ``MemoryError``,
    torch's CUDA ``OutOfMemoryError``, or one of :data:`OUT_OF_MEMORY_MESSAGES`."""
    if isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError":
        return True
    return any(message in str(error) for message in OUT_OF_MEMORY_MESSAGES)


def _abort_other_reference_processes(command: str) -> None:
    """End the other MPI ranks of a failed ``molgen reference`` (they would wait forever)."""
    if command == "reference":
        from systems.reference.mpi_ranks import abort_other_processes

        abort_other_processes(2)


def _one_line(error: BaseException) -> str:
    """The message of ``error`` on one line; an ``OSError`` as ``file: reason``."""
    if isinstance(error, OSError) and error.strerror:
        where = f"{error.filename}: " if error.filename is not None else ""
        return f"{where}{error.strerror}"
    return " ".join(str(error).split())


if __name__ == "__main__":
    sys.exit(main())
