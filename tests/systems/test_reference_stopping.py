"""``molgen reference`` stopped by SIGINT or SIGTERM: a clean stop after the current
iteration, a checkpoint, a line naming ``--resume``, and a run that resumes from it.

The signal is raised from inside the run, at the second call of a function each iteration
calls, so that it arrives at a known iteration (the run then stops after iteration 2).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from cli.main import main

ROOT = Path(__file__).resolve().parents[2]

RUNS = {
    "langevin": [
        *("butane", "--engine", "langevin", "--ladders", "2", "--replicas", "2"),
        *("--iterations", "6", "--burn-in", "0", "--save-every", "1"),
        *("--steps-per-iteration", "2"),
    ],
    "openmm": ["butane", "--replicas", "2", "--iterations", "6", "--steps-per-iteration", "5"],
    "wells": ["double_well_2d", "--chains", "2", "--iterations", "6", "--burn-in", "0"],
}
"""Tiny runs of the three samplers: six iterations each (no burn-in)."""

HOOKS = {
    "langevin": ("systems.reference.langevin_tempering", "LangevinTempering", "iterate"),
    "openmm": ("systems.reference.openmm_tempering", "", "_seed_swaps"),
    "wells": ("systems.reference.metropolis_tempering", "MetropolisTempering", "iterate"),
}
"""Per engine, a function called once before each iteration: module, class ('' for a
module-level function), name."""

EXACT = ("langevin", "wells")
"""Engines whose resumed run has exactly the numbers of an uninterrupted one (OpenMM's
integrator noise restarts on resume)."""


def signal_on_second_call(
    engine: str, signum: int, on_first_process: bool = True
) -> tuple[object, str, Callable]:
    """``(owner, name, replacement)``: the engine's hook, wrapped to raise ``signum`` at its
    second call (under MPI only on the first process, or only on the others)."""
    from systems.reference.mpi_ranks import is_first_process

    module_name, class_name, name = HOOKS[engine]
    module = importlib.import_module(module_name)
    owner = getattr(module, class_name) if class_name else module
    original = getattr(owner, name)
    calls = []

    def replacement(*args, **kwargs):
        calls.append(None)
        if len(calls) == 2 and is_first_process() == on_first_process:
            signal.raise_signal(signum)
        return original(*args, **kwargs)

    return owner, name, replacement


def run_signalled(engine: str, signal_name: str, on_first_process: str, *argv: str) -> int:
    """``molgen reference argv`` with ``signal_name`` raised at iteration 2 (the entry
    point of the subprocesses below)."""
    owner, name, replacement = signal_on_second_call(
        engine, getattr(signal, signal_name), on_first_process == "first"
    )
    setattr(owner, name, replacement)
    return main(list(argv))


def _signalled_process(
    engine: str, signal_name: str, argv: list[str], cwd: Path, mpi: int = 0
) -> subprocess.CompletedProcess:
    """:func:`run_signalled` in a new Python process (under ``mpiexec -n mpi`` when given,
    the signal then raised on the second process only)."""
    where = "other" if mpi else "first"
    code = (
        "import sys; from tests.systems.test_reference_stopping import run_signalled; "
        "sys.exit(run_signalled(*sys.argv[1:]))"
    )
    command = [sys.executable, "-c", code, engine, signal_name, where, "reference", *argv]
    if mpi:
        command = ["mpiexec", "-n", str(mpi), *command]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=300
    )


def _stopped_cleanly(status: int, error: str, out: Path) -> None:
    """Exit 130 and one line saying where the run stopped and that --resume continues it;
    no outputs yet, only the run's checkpoint."""
    assert status == 130, error
    assert "Traceback" not in error
    lines = error.strip().splitlines()
    assert len(lines) == 1, error
    assert "stopped after iteration 2 of 6" in lines[0]
    assert f"checkpointed in {out}" in lines[0] and "--resume" in lines[0]
    assert not (out / "stats.json").exists()
    assert {"checkpoint.pt", "pt.nc"} & {path.name for path in out.iterdir()}


def _resumes(engine: str, out: Path, tmp_path: Path) -> None:
    """``--resume`` completes the stopped run: every iteration once, and for the torch
    engines exactly the frames of an uninterrupted run."""
    argv = ["reference", *RUNS[engine], "--no-progress", "--out", str(out)]
    assert main([*argv, "--resume"]) == 0
    frames = np.load(out / "frames.npz")
    chains = len(np.unique(frames["chain"]))
    np.testing.assert_array_equal(frames["iteration"], np.tile(np.arange(1, 7), chains))
    if engine in EXACT:
        whole = tmp_path / "uninterrupted"
        assert main([*argv[:-1], str(whole)]) == 0
        expected = np.load(whole / "frames.npz")["energy"]
        np.testing.assert_array_equal(frames["energy"], expected)


@pytest.mark.parametrize("engine", sorted(RUNS))
def test_sigint_stops_after_the_iteration_with_a_resume_hint(engine, tmp_path, capsys, monkeypatch):
    """SIGINT used to end in a bare 'interrupted' (KeyboardInterrupt), with no --resume
    hint and the Langevin engines' work since their last periodic checkpoint lost."""
    out = tmp_path / "run"
    monkeypatch.setattr(*signal_on_second_call(engine, signal.SIGINT))
    status = main(["reference", *RUNS[engine], "--no-progress", "--out", str(out)])
    _stopped_cleanly(status, capsys.readouterr().err, out)
    monkeypatch.undo()
    _resumes(engine, out, tmp_path)


@pytest.mark.parametrize("engine", ["langevin", "openmm"])
def test_sigterm_stops_after_the_iteration_with_a_resume_hint(engine, tmp_path):
    """SIGTERM used to kill the run (status 143) without a word."""
    out = tmp_path / "run"
    argv = [*RUNS[engine], "--no-progress", "--out", str(out)]
    stopped = _signalled_process(engine, "SIGTERM", argv, tmp_path)
    _stopped_cleanly(stopped.returncode, stopped.stderr, out)
    _resumes(engine, out, tmp_path)


@pytest.mark.skipif(
    shutil.which("mpiexec") is None or importlib.util.find_spec("mpi4py") is None,
    reason="needs an MPI launcher and mpi4py (pip install '.[mpi]')",
)
def test_sigterm_on_one_mpi_process_stops_every_process(tmp_path):
    """mpiplus's own SIGTERM handler aborted the job (MPI_Abort, status 1); a stop seen by
    one process alone would leave the others waiting for it forever."""
    out = tmp_path / "run"
    argv = [*RUNS["openmm"], "--no-progress", "--out", str(out)]
    stopped = _signalled_process("openmm", "SIGTERM", argv, tmp_path, mpi=2)
    _stopped_cleanly(stopped.returncode, stopped.stderr, out)
    assert "mpi_abort" not in stopped.stderr.lower()
