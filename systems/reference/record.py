"""What a parallel-tempering run leaves for analysis: energies and mode labels of every replica.

The record is the file between sampling and analysis (``ladder.npz``): both samplers write
it, :func:`systems.reference.stats.reference_stats` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forcefields.atomic_files import save_npz_atomic

__all__ = ["TemperingRecord", "save_record", "load_record"]


@dataclass(frozen=True)
class TemperingRecord:
    """Per-frame energies and mode labels of all temperatures of a tempering run.

    Arguments:
        temperatures: ``(K,)`` ladder, ``temperatures[0]`` the target (K, or reduced units).
        betas: ``(K,)`` inverse temperatures in 1/``energy_unit``.
        energies: ``(T, K, C)`` potential energy of the sample held by temperature ``k`` at
            frame ``t`` of chain ``c``.
        labels: ``(T, K, C)`` integer mode labels (``0 .. len(mode_names)-1``) of those samples.
        mode_names: names of the labels.
        energy_unit: ``"kJ/mol"`` or ``"reduced"`` (dimensionless, ``β = 1/T``).
        swap_acceptance: ``(K-1,)`` acceptance rate of swaps between neighbours ``k, k+1``.
    """

    temperatures: np.ndarray
    betas: np.ndarray
    energies: np.ndarray
    labels: np.ndarray
    mode_names: tuple[str, ...]
    energy_unit: str
    swap_acceptance: np.ndarray

    @property
    def n_frames(self) -> int:
        """Frames per chain ``T``."""
        return int(self.energies.shape[0])

    @property
    def n_chains(self) -> int:
        """Independent chains ``C``."""
        return int(self.energies.shape[2])


def save_record(path: Path | str, record: TemperingRecord) -> None:
    """Write ``record`` to an ``.npz`` file atomically."""
    arrays = {
        "temperatures": np.asarray(record.temperatures, dtype=np.float64),
        "betas": np.asarray(record.betas, dtype=np.float64),
        "energies": np.asarray(record.energies, dtype=np.float64),
        "labels": np.asarray(record.labels, dtype=np.int64),
        "mode_names": np.asarray(record.mode_names, dtype=str),
        "energy_unit": np.asarray(record.energy_unit),
        "swap_acceptance": np.asarray(record.swap_acceptance, dtype=np.float64),
    }
    save_npz_atomic(path, arrays, mode=0o644)


def load_record(path: Path | str) -> TemperingRecord:
    """Read a record written by :func:`save_record`."""
    with np.load(path, allow_pickle=False) as data:
        return TemperingRecord(
            temperatures=data["temperatures"],
            betas=data["betas"],
            energies=data["energies"],
            labels=data["labels"],
            mode_names=tuple(str(name) for name in data["mode_names"]),
            energy_unit=str(data["energy_unit"]),
            swap_acceptance=data["swap_acceptance"],
        )
