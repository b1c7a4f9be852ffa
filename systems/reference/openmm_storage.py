"""Read an openmmtools parallel-tempering storage back as arrays ordered by temperature.

openmmtools stores per replica; analysis wants per temperature. Frame ``t`` of the
result is iteration ``t + 1`` (iteration 0 is the starting structure, before any move),
and index ``k`` is the sample that temperature ``k`` held after that iteration. Only
iterations up to the storage's ``last_iteration`` are read, so data an interrupted run
wrote past its last complete iteration is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np
from openmm import unit
from openmmtools.multistate import MultiStateReporter

from forcefields.units import beta_from_temperature
from systems.reference.quiet import quiet

__all__ = ["StoredTempering", "checkpoint_path", "read_tempering"]


@dataclass(frozen=True)
class StoredTempering:
    """A tempering run as arrays.

    Arguments:
        temperatures: ``(K,)`` ladder in K.
        positions: ``(T, K, N, 3)`` float32 nm, the sample at temperature ``k`` after
            iteration ``t + 1``.
        energies: ``(T, K)`` potential energies in kJ/mol of those samples.
        reduced_potentials: ``(T, K)`` ``β_k U`` (dimensionless).
        swap_acceptance: ``(K-1,)`` accepted / proposed swaps of neighbours ``k, k+1``.
    """

    temperatures: np.ndarray
    positions: np.ndarray
    energies: np.ndarray
    reduced_potentials: np.ndarray
    swap_acceptance: np.ndarray


def checkpoint_path(storage: Path | str) -> Path:
    """The checkpoint file openmmtools writes next to ``storage`` (``<stem>_checkpoint.nc``)."""
    storage = Path(storage)
    return storage.with_name(f"{storage.stem}_checkpoint{storage.suffix}")


def read_tempering(storage: Path | str) -> StoredTempering:
    """Arrays of the iterations ``1 .. last`` completed in ``storage``."""
    with quiet("openmmtools"):
        reporter = MultiStateReporter(str(storage), open_mode="r")
    try:
        last = reporter.read_last_iteration(last_checkpoint=False)
        thermodynamic_states, _ = reporter.read_thermodynamic_states()
        replica_states = np.asarray(reporter.read_replica_thermodynamic_states())[1 : last + 1]
        reduced, _, _ = reporter.read_energies()
        accepted, proposed = reporter.read_mixing_statistics()
    finally:
        reporter.close()
    temperatures = np.array(
        [state.temperature.value_in_unit(unit.kelvin) for state in thermodynamic_states]
    )
    with netCDF4.Dataset(checkpoint_path(storage), "r") as checkpoint:
        replica_positions = np.asarray(checkpoint.variables["positions"][1 : last + 1])

    replica_of_state = np.argsort(replica_states, axis=1)
    frames = np.arange(len(replica_states))[:, None]
    positions = replica_positions[frames, replica_of_state]
    reduced_potentials = np.asarray(reduced)[1 : last + 1][
        frames, replica_of_state, np.arange(len(temperatures))[None, :]
    ]
    betas = np.array([beta_from_temperature(t) for t in temperatures])
    return StoredTempering(
        temperatures=temperatures,
        positions=positions,
        energies=reduced_potentials / betas,
        reduced_potentials=reduced_potentials,
        swap_acceptance=_neighbour_acceptance(
            np.asarray(accepted)[1 : last + 1], np.asarray(proposed)[1 : last + 1]
        ),
    )


def _neighbour_acceptance(accepted: np.ndarray, proposed: np.ndarray) -> np.ndarray:
    """Acceptance ``(K-1,)`` of swaps ``k <-> k+1`` from per-iteration ``(T, K, K)`` counts."""
    accepted, proposed = accepted.sum(axis=0), proposed.sum(axis=0)
    pairs = np.arange(accepted.shape[0] - 1)
    n_accepted = accepted[pairs, pairs + 1] + accepted[pairs + 1, pairs]
    n_proposed = proposed[pairs, pairs + 1] + proposed[pairs + 1, pairs]
    return n_accepted / np.maximum(n_proposed, 1)
