"""The command-line contract on bad input, checked in-process and in a real subprocess.

Bad input ends in exit status 2 and one line on stderr that names the offending file or
field, with no traceback and no output file left behind (not even a temporary one).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from cli.main import main

__all__ = ["assert_cli_rejects", "assert_no_output", "run_molgen"]


def assert_no_output(paths: Iterable[Path]) -> None:
    """Each path is absent, and its folder holds no temporary file named after it."""
    for path in map(Path, paths):
        assert not path.exists(), f"{path} was written despite the error"
        if path.parent.is_dir():
            leftovers = [
                p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.stem}")
            ]
            assert not leftovers, f"temporary files left next to {path}: {leftovers}"


def assert_cli_rejects(
    argv: Sequence[str],
    capsys: pytest.CaptureFixture,
    names: Iterable[str],
    outputs: Iterable[Path] = (),
) -> str:
    """Run ``molgen argv`` in-process; check the bad-input contract; return the error line."""
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert status == 2, f"exit status {status}, stderr: {captured.err!r}"
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {captured.err!r}"
    for name in names:
        assert str(name) in lines[0], f"{name!r} not named in {lines[0]!r}"
    assert_no_output(outputs)
    return lines[0]


def run_molgen(
    args: Sequence[str], cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run ``python -m cli.main args`` as a real process (one torch thread)."""
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *map(str, args)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
