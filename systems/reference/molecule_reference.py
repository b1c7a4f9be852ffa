"""Reference data for a CHARMM molecule: OpenMM parallel tempering, then export and statistics.

Three steps with files in between: sampling (``pt.nc`` storage, resumable), export of the
target temperature and the ladder (``trajectory.dcd``, ``frames.npz``, ``ladder.npz``),
and analysis (``stats.json``); see :mod:`systems.reference.outputs`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import openmm

from forcefields.errors import ConfigError
from forcefields.units import beta_from_temperature
from systems.reference.mpi_ranks import on_first_process
from systems.reference.openmm_storage import read_tempering
from systems.reference.openmm_tempering import (
    PLATFORMS,
    TemperingSettings,
    add_hydrogen_bond_constraints,
    run_tempering,
)
from systems.reference.outputs import write_reference_outputs
from systems.reference.record import TemperingRecord
from systems.reference.run_directory import check_positive, prepare_run_directory
from systems.reference.stopping import StopCheck

__all__ = ["CONSTRAINTS", "STORAGE_FILE", "run_openmm_reference"]

CONSTRAINTS = ("none", "hbonds")
STORAGE_FILE = "pt.nc"

Observable = Callable[[np.ndarray], np.ndarray]


def run_openmm_reference(
    out_dir: Path | str,
    system_name: str,
    openmm_system: openmm.System,
    positions: np.ndarray,
    topology,
    labels: Observable,
    mode_names: Sequence[str],
    observables: Mapping[str, Observable],
    settings: TemperingSettings,
    n_iterations: int,
    constraints: str = "none",
    resume: bool = False,
    progress: bool = False,
    stop: StopCheck | None = None,
) -> dict:
    """Sample ``openmm_system`` by parallel tempering and write the reference set to ``out_dir``.

    Arguments:
        out_dir: the run's folder (new, or the one to resume).
        system_name: name recorded in ``run.json`` and ``stats.json``.
        openmm_system: vacuum OpenMM system without constraints (not modified).
        positions: ``(N, 3)`` starting coordinates in nm.
        topology: ``mdtraj.Topology`` of the trajectory (written as ``topology.pdb``).
        labels: ``(B, N, 3)`` nm -> ``(B,)`` integer mode labels.
        mode_names: names of the labels.
        observables: name -> ``(B, N, 3)`` nm -> ``(B,)`` per-frame values for ``frames.npz``.
        settings: ladder, integrator, platform and seed.
        n_iterations: total iterations (one stored frame per temperature each).
        constraints: ``"none"`` (the energy the torch model sees) or ``"hbonds"``.
        resume: continue the run in ``out_dir``.
        progress: show a progress bar.
        stop: asked after every iteration; ``True`` stops the run there (resumable).

    Under ``mpiexec`` the replicas are spread over the processes
    (:mod:`systems.reference.mpi_ranks`); the first one prepares ``out_dir`` and writes the
    outputs, and every process returns the statistics.

    Returns:
        The contents of ``stats.json``.

    Raises:
        ConfigError: bad counts, platform, constraints or a negative seed; see also
            :func:`~systems.reference.run_directory.prepare_run_directory`.
        NonFiniteCoordinatesError: the dynamics became unstable (see
            :func:`~systems.reference.openmm_tempering.run_tempering`).
        SamplingStopped: ``stop`` answered ``True``; ``--resume`` continues the run.
    """
    check_positive(
        iterations=n_iterations,
        steps_per_iteration=settings.steps_per_iteration,
        timestep=settings.timestep,
        collision_rate=settings.collision_rate,
    )
    if settings.platform not in PLATFORMS:
        raise ConfigError(f"platform: expected one of {PLATFORMS}, got {settings.platform!r}")
    if constraints not in CONSTRAINTS:
        raise ConfigError(f"constraints: expected one of {CONSTRAINTS}, got {constraints!r}")
    if settings.seed < 0:
        # derived_seed uses |seed|: seeds s and -s would give the same numbers.
        raise ConfigError(f"seed: must be >= 0, got {settings.seed}")
    out_dir = Path(out_dir)
    run_settings = {
        "system": system_name,
        "sampler": "openmm-parallel-tempering",
        **asdict(settings),
        "temperatures": [float(t) for t in settings.temperatures],
        "constraints": constraints,
        "iterations": int(n_iterations),
    }
    on_first_process(prepare_run_directory, out_dir, run_settings, resume)

    system = openmm.XmlSerializer.clone(openmm_system)
    if constraints == "hbonds":
        add_hydrogen_bond_constraints(system, topology)
    storage = out_dir / STORAGE_FILE
    run_tempering(storage, system, positions, settings, n_iterations, progress, stop)
    return on_first_process(
        _export, out_dir, system_name, storage, topology, labels, mode_names, observables
    )


def _export(
    out_dir: Path,
    system_name: str,
    storage: Path,
    topology,
    labels: Observable,
    mode_names: Sequence[str],
    observables: Mapping[str, Observable],
) -> dict:
    """Write the target-temperature frames, the ladder and ``stats.json`` from ``storage``;
    returns the statistics."""
    stored = read_tempering(storage)
    n_frames, n_states = stored.energies.shape
    flat = stored.positions.reshape(n_frames * n_states, *stored.positions.shape[2:])
    record = TemperingRecord(
        temperatures=stored.temperatures,
        betas=np.array([beta_from_temperature(t) for t in stored.temperatures]),
        energies=stored.energies[:, :, None],
        labels=np.asarray(labels(flat)).reshape(n_frames, n_states, 1),
        mode_names=tuple(mode_names),
        energy_unit="kJ/mol",
        swap_acceptance=stored.swap_acceptance,
    )
    return write_reference_outputs(
        out_dir,
        system_name,
        record,
        stored.positions[:, :1],
        observables,
        topology=topology,
    )
