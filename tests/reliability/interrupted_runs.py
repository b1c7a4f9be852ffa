"""Start a ``molgen`` command, SIGKILL it at a random moment after its first checkpoint, and
check while it runs that every visible file in its output is complete."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import mdtraj
import numpy as np
import torch
import yaml

__all__ = ["assert_complete_files", "kill_after", "molgen_command"]

_POLL_SECONDS = 0.05


def molgen_command(args: Sequence[object]) -> list[str]:
    """The argv of ``python -m cli.main args``."""
    return [sys.executable, "-m", "cli.main", *map(str, args)]


def _check_file(path: Path) -> None:
    suffix = path.suffix
    if suffix == ".json":
        json.loads(path.read_text())
    elif suffix == ".jsonl":
        for line in path.read_text().splitlines():
            json.loads(line)
    elif suffix == ".yaml":
        yaml.safe_load(path.read_text())
    elif suffix == ".npz":
        with np.load(path, allow_pickle=False) as arrays:
            for key in arrays.files:
                arrays[key]
    elif suffix == ".pt":
        torch.load(path, weights_only=True)
    elif suffix == ".pdb":
        mdtraj.load(str(path))
    elif suffix == ".dcd" and (path.parent / "topology.pdb").is_file():
        mdtraj.load(str(path), top=str(path.parent / "topology.pdb"))


def assert_complete_files(folder: Path) -> int:
    """Load every non-hidden file under ``folder`` by its suffix; return how many were read.

    Hidden names (``.name.tmp``, ``.name.parts/``) are writes in progress and are skipped,
    as is OpenMM's incrementally written ``.nc`` storage. A file removed while being read
    (a pruned checkpoint) is skipped.
    """
    checked = 0
    for path in sorted(Path(folder).rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if path.suffix == ".nc":
            continue
        try:
            _check_file(path)
        except FileNotFoundError:
            continue
        except Exception as error:
            raise AssertionError(f"{path} is incomplete or corrupt: {error}") from error
        checked += 1
    return checked


def kill_after(
    args: Sequence[object],
    watched: Path,
    ready: Callable[[], bool],
    max_delay: float,
    timeout: float = 300,
) -> float:
    """Run ``molgen args``; once ``ready()``, wait a random time below ``max_delay`` s and
    SIGKILL it. Checks the files under ``watched`` at every poll. Returns the delay used.

    Raises ``AssertionError`` when the command ends before it could be killed.
    """
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        molgen_command(args), env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    delay = random.uniform(0.0, max_delay)
    # shown with a failing test's captured output, so the kill can be repeated
    print(f"kill_after {list(map(str, args))}: SIGKILL {delay:.3f} s after ready")
    deadline = time.monotonic() + timeout
    killed_at = None
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if watched.exists():
                assert_complete_files(watched)
            if killed_at is None and ready():
                killed_at = time.monotonic() + delay
            if killed_at is not None and time.monotonic() >= killed_at:
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(_POLL_SECONDS)
    finally:
        if process.poll() is None and killed_at is None:
            process.kill()
        process.wait()
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    assert process.returncode == -signal.SIGKILL, (
        f"the command ended (status {process.returncode}) before the kill {delay:.2f} s "
        f"after its first checkpoint: {stderr[-500:]}"
    )
    if watched.exists():
        assert_complete_files(watched)
    return delay
