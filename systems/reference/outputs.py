"""The files a reference run leaves in its folder, each written atomically.

- ``trajectory.dcd`` + ``topology.pdb`` (its first frame): target-temperature frames of a
  molecule, read with ``mdtraj.load("trajectory.dcd", top="topology.pdb")``; or
  ``samples.npz`` with array ``x`` ``(n, *event)`` for coordinates that are not atoms.
- ``frames.npz``: per target frame ``chain``, ``iteration``, ``energy`` (``energy_unit``),
  ``reduced_potential`` (``β U``), ``mode`` (label) and one array per observable.
- ``ladder.npz``: the :class:`~systems.reference.record.TemperingRecord` of all temperatures.
- ``stats.json``: :func:`~systems.reference.stats.reference_stats`.

:func:`write_target_frames` writes the first two alone (the Langevin engine, which keeps
its own series and statistics, uses it).

Frames are ordered chain by chain, each chain in time order, so every chain is a
contiguous time series.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from forcefields.atomic_files import save_npz_atomic
from systems.reference.atomic_files import save_trajectory_atomic, write_json_atomic
from systems.reference.record import TemperingRecord, save_record
from systems.reference.stats import reference_stats

__all__ = ["RESERVED_FRAME_KEYS", "write_reference_outputs", "write_target_frames"]

RESERVED_FRAME_KEYS = ("chain", "iteration", "energy", "reduced_potential", "mode", "energy_unit")

Observable = Callable[[np.ndarray], np.ndarray]


def write_reference_outputs(
    out_dir: Path | str,
    system_name: str,
    record: TemperingRecord,
    target_positions: np.ndarray,
    observables: Mapping[str, Observable],
    topology=None,
) -> dict:
    """Write trajectory, per-frame arrays, the ladder record and ``stats.json``; return the stats.

    Arguments:
        out_dir: the run's folder.
        system_name: name written into ``stats.json``.
        record: energies and labels of all temperatures, ``(T, K, C)``.
        target_positions: ``(T, C, *event)`` target-temperature coordinates (nm for atoms).
        observables: name -> function of ``(B, *event)`` coordinates returning ``(B,)``.
        topology: ``mdtraj.Topology`` when the coordinates are atoms ``(N, 3)``; ``None``
            writes ``samples.npz`` instead of ``trajectory.dcd`` and ``topology.pdb``.
    """
    out_dir = Path(out_dir)
    write_target_frames(
        out_dir,
        target_positions,
        record.energies[:, 0, :],
        record.labels[:, 0, :],
        float(record.betas[0]),
        record.energy_unit,
        observables,
        topology=topology,
    )
    save_record(out_dir / "ladder.npz", record)
    stats = reference_stats(record, system_name)
    write_json_atomic(out_dir / "stats.json", stats)
    return stats


def write_target_frames(
    out_dir: Path | str,
    target_positions: np.ndarray,
    energies: np.ndarray,
    labels: np.ndarray,
    beta: float,
    energy_unit: str,
    observables: Mapping[str, Observable],
    topology=None,
    iterations: np.ndarray | None = None,
) -> None:
    """Write the target-temperature frames: coordinates and ``frames.npz``.

    Arguments:
        out_dir: the run's folder.
        target_positions: ``(T, C, *event)`` coordinates (nm for atoms) of ``C`` chains.
        energies: ``(T, C)`` potential energies in ``energy_unit``.
        labels: ``(T, C)`` integer mode labels.
        beta: inverse target temperature in 1/``energy_unit``.
        energy_unit: ``"kJ/mol"`` or ``"reduced"``.
        observables: name -> function of ``(B, *event)`` coordinates returning ``(B,)``.
        topology: ``mdtraj.Topology`` for atoms, or ``None`` (``samples.npz``).
        iterations: ``(T,)`` iteration number of each frame; default ``1 .. T``.
    """
    out_dir = Path(out_dir)
    for name in observables:
        if name in RESERVED_FRAME_KEYS:
            raise ValueError(f"observable name {name!r} is reserved in frames.npz")
    n_frames, n_chains = target_positions.shape[:2]
    frames = np.swapaxes(np.asarray(target_positions), 0, 1).reshape(
        n_chains * n_frames, *target_positions.shape[2:]
    )
    _write_coordinates(out_dir, frames, topology)
    if iterations is None:
        iterations = np.arange(1, n_frames + 1)
    target_energy = np.asarray(energies).T.reshape(-1)
    arrays = {
        "chain": np.repeat(np.arange(n_chains), n_frames),
        "iteration": np.tile(np.asarray(iterations), n_chains),
        "energy": target_energy,
        "reduced_potential": beta * target_energy,
        "mode": np.asarray(labels).T.reshape(-1),
        "energy_unit": np.asarray(energy_unit),
    }
    arrays.update({name: np.asarray(function(frames)) for name, function in observables.items()})
    save_npz_atomic(out_dir / "frames.npz", arrays, mode=0o644)


def _write_coordinates(out_dir: Path, frames: np.ndarray, topology) -> None:
    if topology is None:
        save_npz_atomic(out_dir / "samples.npz", {"x": frames}, mode=0o644)
        return
    import mdtraj

    trajectory = mdtraj.Trajectory(frames.astype(np.float32), topology)
    save_trajectory_atomic(out_dir / "topology.pdb", trajectory[:1])
    save_trajectory_atomic(out_dir / "trajectory.dcd", trajectory)
