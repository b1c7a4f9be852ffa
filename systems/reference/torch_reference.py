"""Reference data for a torch energy: Metropolis–Hastings parallel tempering, export, statistics.

Used for the double wells (dimensionless energies, ``β = 1/T``) and for molecules whose
target includes terms OpenMM does not have, such as the alignment penalty (energies in
kJ/mol, ``β = 1/(k_B T)``). The run is checkpointed to ``checkpoint.pt`` in the output
folder and resumes from it; the outputs are those of :mod:`systems.reference.outputs`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from forcefields.errors import ConfigError
from forcefields.units import beta_from_temperature
from systems.reference.metropolis_tempering import MetropolisTempering
from systems.reference.outputs import write_reference_outputs
from systems.reference.record import TemperingRecord
from systems.reference.run_directory import (
    check_positive,
    note_iterations_done,
    prepare_run_directory,
)
from systems.reference.stopping import StopCheck

__all__ = ["ENERGY_UNITS", "CHECKPOINT_FILE", "MetropolisSettings", "run_metropolis_reference"]

ENERGY_UNITS = ("reduced", "kJ/mol")
CHECKPOINT_FILE = "checkpoint.pt"


@dataclass(frozen=True)
class MetropolisSettings:
    """Parameters of a Metropolis–Hastings parallel-tempering run.

    Arguments:
        temperatures: ``(K,)`` ladder, ``temperatures[0]`` the target (K, or reduced units).
        n_chains: independent chains per temperature.
        steps_per_iteration: Metropolis steps between swap sweeps (one recorded frame).
        burn_in_iterations: step-size adaptation iterations, not recorded.
        target_acceptance: Metropolis acceptance the step sizes adapt to.
        initial_step: starting proposal standard deviation (unit of the coordinates).
        seed: seed of the sampler's generator.
    """

    temperatures: Sequence[float]
    n_chains: int = 32
    steps_per_iteration: int = 10
    burn_in_iterations: int = 200
    target_acceptance: float = 0.3
    initial_step: float = 0.1
    seed: int = 0


def _betas(temperatures: Sequence[float], energy_unit: str) -> np.ndarray:
    if energy_unit == "reduced":
        return 1.0 / np.asarray(temperatures, dtype=np.float64)
    return np.array([beta_from_temperature(t) for t in temperatures])


def run_metropolis_reference(
    out_dir: Path | str,
    system_name: str,
    energy: Callable[[torch.Tensor], torch.Tensor],
    initial: torch.Tensor,
    labels: Callable[[torch.Tensor], torch.Tensor],
    mode_names: Sequence[str],
    observables: Mapping[str, Callable[[np.ndarray], np.ndarray]],
    settings: MetropolisSettings,
    n_iterations: int,
    energy_unit: str = "reduced",
    topology=None,
    resume: bool = False,
    progress: bool = False,
    checkpoint_every: int = 100,
    stop: StopCheck | None = None,
) -> dict:
    """Sample ``exp(−β_k U)`` by Metropolis parallel tempering and write the reference set.

    Arguments:
        out_dir: the run's folder (new, or the one to resume).
        system_name: name recorded in ``run.json`` and ``stats.json``.
        energy: ``(B, *event) -> (B,)`` potential energy in ``energy_unit``.
        initial: starting point ``(*event)`` of every chain (its dtype is the sampler's).
        labels: ``(B, *event) -> (B,)`` integer mode labels (torch).
        mode_names: names of the labels.
        observables: name -> ``(B, *event)`` numpy -> ``(B,)`` values for ``frames.npz``.
        settings: ladder, chains, step counts and seed.
        n_iterations: recorded iterations (frames per chain) after burn-in.
        energy_unit: ``"reduced"`` (``β = 1/T``) or ``"kJ/mol"`` (``T`` in K).
        topology: ``mdtraj.Topology`` when ``event`` is ``(N, 3)`` atoms in nm, else ``None``.
        resume: continue the run in ``out_dir`` from ``checkpoint.pt``.
        progress: show a progress bar.
        checkpoint_every: iterations between checkpoints.
        stop: asked after every iteration; ``True`` checkpoints the run and stops it
            (:class:`~systems.reference.stopping.SamplingStopped`; ``resume`` continues it).

    Returns:
        The contents of ``stats.json``.
    """
    check_positive(
        iterations=n_iterations,
        chains=settings.n_chains,
        steps_per_iteration=settings.steps_per_iteration,
        initial_step=settings.initial_step,
        checkpoint_every=checkpoint_every,
    )
    if settings.burn_in_iterations < 0:
        raise ConfigError(f"burn_in: must be >= 0, got {settings.burn_in_iterations}")
    if not 0.0 < settings.target_acceptance < 1.0:
        raise ConfigError(f"target_acceptance: must be in (0, 1), got {settings.target_acceptance}")
    if energy_unit not in ENERGY_UNITS:
        raise ConfigError(f"energy_unit: expected one of {ENERGY_UNITS}, got {energy_unit!r}")
    out_dir = Path(out_dir)
    run_settings = {
        "system": system_name,
        "sampler": "metropolis-parallel-tempering",
        **asdict(settings),
        "temperatures": [float(t) for t in settings.temperatures],
        "energy_unit": energy_unit,
        "iterations": int(n_iterations),
    }
    resumed = prepare_run_directory(out_dir, run_settings, resume)

    betas = _betas(settings.temperatures, energy_unit)
    sampler = MetropolisTempering(
        energy,
        torch.as_tensor(betas, dtype=initial.dtype),
        initial,
        n_chains=settings.n_chains,
        labels=labels,
        steps_per_iteration=settings.steps_per_iteration,
        burn_in_iterations=settings.burn_in_iterations,
        target_acceptance=settings.target_acceptance,
        initial_step=settings.initial_step,
        seed=settings.seed,
    )
    checkpoint = out_dir / CHECKPOINT_FILE
    if resumed and checkpoint.is_file():
        sampler.load(checkpoint)
        note_iterations_done(max(sampler.iteration - sampler.burn_in_iterations, 0), n_iterations)
    sampler.run(n_iterations, checkpoint, checkpoint_every, progress, stop)

    record = TemperingRecord(
        temperatures=np.asarray(settings.temperatures, dtype=np.float64),
        betas=betas,
        energies=sampler.recorded_energies().numpy(),
        labels=sampler.recorded_labels().numpy(),
        mode_names=tuple(mode_names),
        energy_unit=energy_unit,
        swap_acceptance=sampler.swap_acceptance().numpy(),
    )
    return write_reference_outputs(
        out_dir,
        system_name,
        record,
        sampler.recorded_positions().numpy(),
        observables,
        topology=topology,
    )
