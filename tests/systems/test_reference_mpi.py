"""``mpiexec -n 2 molgen reference``: openmmtools spreads the replicas over the processes,
the first process writes the outputs once, and a failure ends the whole job."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import mdtraj
import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("mpiexec") is None or importlib.util.find_spec("mpi4py") is None,
    reason="needs an MPI launcher and mpi4py (pip install '.[mpi]')",
)

ROOT = Path(__file__).resolve().parents[2]
RUN = ["reference", "butane", "--replicas", "2", "--steps-per-iteration", "20", "--no-progress"]


def _molgen(arguments: list[str], processes: int, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "cli.main", *arguments]
    if processes > 1:
        command = ["mpiexec", "-n", str(processes), *command]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    # A hang (a process waiting for one that failed) would end at the timeout.
    return subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=300
    )


def test_two_processes_share_the_replicas_and_write_the_outputs_once(tmp_path):
    single = _molgen([*RUN, "--iterations", "4", "--out", "single"], 1, tmp_path)
    assert single.returncode == 0, single.stderr
    shared = _molgen([*RUN, "--iterations", "4", "--out", "mpi"], 2, tmp_path)
    assert shared.returncode == 0, shared.stderr
    assert shared.stdout.count("written to mpi/") == 1
    trajectory = mdtraj.load(
        str(tmp_path / "mpi/trajectory.dcd"), top=str(tmp_path / "mpi/topology.pdb")
    )
    assert trajectory.n_frames == 4
    energies = {
        name: np.load(tmp_path / name / "ladder.npz")["energies"] for name in ("single", "mpi")
    }
    assert energies["mpi"].shape == energies["single"].shape == (4, 2, 1)
    assert np.isfinite(energies["mpi"]).all()
    # Same seed: had the first process propagated both replicas, as in the one-process run,
    # the numbers would be the same; the second process's integrator draws its own noise.
    assert not np.array_equal(energies["mpi"], energies["single"])
    resumed = _molgen([*RUN, "--iterations", "6", "--out", "mpi", "--resume"], 2, tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert np.load(tmp_path / "mpi/ladder.npz")["energies"].shape == (6, 2, 1)


def test_a_failure_on_the_first_process_ends_the_job_with_one_message(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "run.json").write_text("{}")
    (tmp_path / "taken" / "pt.nc").write_text("iterations recorded")
    failed = _molgen([*RUN, "--iterations", "2", "--out", "taken"], 2, tmp_path)
    assert failed.returncode == 2
    assert failed.stderr.count("molgen reference: error:") == 1
    assert "pass --resume" in failed.stderr
    # a failure while rank 0 prepares the folder is announced to the other rank, which
    # leaves on its own: an MPI_Abort there raced the launcher's forwarding of the message
    assert "mpi_abort" not in failed.stderr.lower()  # MPICH: MPI_Abort, Open MPI: MPI_ABORT
