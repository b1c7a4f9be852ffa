"""Reference data for a CHARMM molecule by batched torch Langevin replica exchange.

The second engine of ``molgen reference`` (``--engine langevin``): many independent
replica-exchange ladders of the physical (unclipped, unaligned) torch energy in one batch
(:class:`~systems.reference.langevin_tempering.LangevinTempering`), so error bars come
from the spread between ladders (:mod:`systems.reference.ladder_statistics`). Files in the
run's folder, each written atomically:

- ``run.json``: the settings; ``checkpoint.pt``: the sampler's state (resume from it);
- ``series.npz``: ``energy`` (kJ/mol) and ``mode`` ``(T, L)`` of the target temperature,
  every recorded iteration of every ladder (what the statistics are computed from);
- ``trajectory.dcd`` + ``topology.pdb`` and ``frames.npz``: every ``save_every``-th
  recorded target frame of every ladder (see :mod:`systems.reference.outputs`; ``chain``
  is the ladder);
- ``stats.json``: :func:`~systems.reference.ladder_statistics.independent_ladder_stats`
  plus ``engine``, ``temperatures``, ``swap_acceptance``, ``n_trajectory_frames``, the
  sampling's wall and CPU seconds (all sessions) and this command's wall seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

import forcefields
from forcefields.atomic_files import save_npz_atomic
from forcefields.devices import resolve_device
from forcefields.errors import ConfigError
from systems import System
from systems.reference.atomic_files import write_json_atomic
from systems.reference.ladder_statistics import independent_ladder_stats
from systems.reference.langevin_tempering import LangevinTempering
from systems.reference.molecular_forces import energy_and_forces_function
from systems.reference.outputs import write_target_frames
from systems.reference.run_directory import (
    check_positive,
    note_iterations_done,
    prepare_run_directory,
)
from systems.reference.stopping import StopCheck
from systems.reference.targets import mode_labels

__all__ = ["ENGINE", "CHECKPOINT_FILE", "DTYPES", "LangevinSettings", "run_langevin_reference"]

ENGINE = "langevin"
CHECKPOINT_FILE = "checkpoint.pt"
DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True)
class LangevinSettings:
    """Parameters of a Langevin replica-exchange run.

    Arguments:
        temperatures: ``(K,)`` ladder in K, increasing, ``temperatures[0]`` the target.
        n_ladders: independent ladders ``L``.
        steps_per_iteration: Langevin steps between swap sweeps (one recorded frame).
        timestep: fs. friction: collision rate in 1/ps.
        burn_in_iterations: iterations run before recording starts.
        save_every: recorded iterations between target frames kept for the trajectory.
        dtype: ``"float32"`` or ``"float64"``.
        compile: ``torch.compile`` each step (about a minute of compilation first).
        seed: seed of every random number.
        device: ``"cpu"`` or a CUDA device (``"cuda"``, ``"cuda:1"``); a run resumes only on
            the kind of device that started it.
    """

    temperatures: tuple[float, ...]
    n_ladders: int = 64
    steps_per_iteration: int = 50
    timestep: float = 1.0
    friction: float = 1.0
    burn_in_iterations: int = 400
    save_every: int = 10
    dtype: str = "float32"
    compile: bool = False
    seed: int = 0
    device: str = "cpu"


def _check(settings: LangevinSettings, n_iterations: int, system: System) -> None:
    if system.kind != "molecule":
        raise ConfigError(f"engine {ENGINE}: {system.name} is not a CHARMM molecule")
    check_positive(
        iterations=n_iterations,
        ladders=settings.n_ladders,
        steps_per_iteration=settings.steps_per_iteration,
        timestep=settings.timestep,
        friction=settings.friction,
        save_every=settings.save_every,
    )
    if settings.burn_in_iterations < 0:
        raise ConfigError(f"burn_in: must be >= 0, got {settings.burn_in_iterations}")
    if settings.dtype not in DTYPES:
        raise ConfigError(f"dtype: expected one of {sorted(DTYPES)}, got {settings.dtype!r}")
    resolve_device(settings.device)
    temperatures = np.asarray(settings.temperatures, dtype=np.float64)
    if temperatures.size == 0 or not np.all(np.isfinite(temperatures) & (temperatures > 0)):
        raise ConfigError(f"temperatures: must be positive and finite, got {temperatures.tolist()}")
    if np.any(np.diff(temperatures) <= 0):
        raise ConfigError(f"temperatures: must increase, got {temperatures.tolist()}")


def run_langevin_reference(
    out_dir: Path | str,
    system: System,
    settings: LangevinSettings,
    n_iterations: int,
    system_label: str | None = None,
    resume: bool = False,
    progress: bool = False,
    checkpoint_every: int = 500,
    callback: Callable[[LangevinTempering], None] | None = None,
    starts: np.ndarray | None = None,
    stop: StopCheck | None = None,
) -> dict:
    """Sample ``system`` at ``settings.temperatures[0]`` and write the reference set.

    Arguments:
        out_dir: the run's folder (new, or the one to resume).
        system: a CHARMM molecule of :func:`systems.load`.
        settings: ladder, ladders, integration, precision and seed.
        n_iterations: recorded iterations (frames per ladder) after burn-in.
        system_label: name written to ``run.json`` and ``stats.json`` (default the system's).
        resume: continue the run in ``out_dir`` from ``checkpoint.pt``.
        progress: show a progress bar.
        checkpoint_every: iterations between checkpoints.
        callback: called with the sampler after every iteration (tests use it to interrupt).
        starts: ``(S, N, 3)`` nm structures the ladders start from in turn (ladder ``l`` from
            ``starts[l % S]``); default the system's minimised positions. Runs started
            from different states that agree are the best evidence of convergence.
        stop: asked after every iteration; ``True`` checkpoints the run and stops it
            (:class:`~systems.reference.stopping.SamplingStopped`; ``resume`` continues it).

    Returns:
        The contents of ``stats.json``.

    Raises:
        ConfigError: a toy system, bad counts, temperatures or dtype; see also
            :func:`~systems.reference.run_directory.prepare_run_directory`.
    """
    started = time.perf_counter()
    _check(settings, n_iterations, system)
    check_positive(checkpoint_every=checkpoint_every)
    if not resume and settings.save_every > n_iterations:
        # No frame would be kept: an empty topology.pdb and trajectory.dcd mdtraj cannot read.
        raise ConfigError(
            f"save_every: {settings.save_every} exceeds the {n_iterations} iterations, so no "
            "trajectory frame would be kept"
        )
    label = system.name if system_label is None else system_label
    out_dir = Path(out_dir)
    run_settings = {
        "system": label,
        "sampler": "langevin-replica-exchange",
        **asdict(settings),
        "temperatures": [float(t) for t in settings.temperatures],
        "iterations": int(n_iterations),
        "start_structures": 1 if starts is None else len(starts),
    }
    dtype = DTYPES[settings.dtype]
    energy = system.energy(dtype=dtype).to(settings.device)
    masses = forcefields.read_charmm(system.psf, list(system.prm)).masses
    resumed = prepare_run_directory(out_dir, run_settings, resume)

    labels, mode_names = mode_labels(system)
    sampler = LangevinTempering(
        energy_and_forces_function(energy),
        masses,
        settings.temperatures,
        system.positions if starts is None else starts,
        settings.n_ladders,
        labels=labels,
        steps_per_iteration=settings.steps_per_iteration,
        timestep=settings.timestep / 1000.0,
        friction=settings.friction,
        burn_in_iterations=settings.burn_in_iterations,
        save_every=settings.save_every,
        dtype=dtype,
        compile=settings.compile,
        seed=settings.seed,
        device=settings.device,
    )
    checkpoint = out_dir / CHECKPOINT_FILE
    if resumed and checkpoint.is_file():
        sampler.load(checkpoint)
        note_iterations_done(sampler.n_recorded, n_iterations)
    sampler.run(
        n_iterations,
        checkpoint,
        checkpoint_every=checkpoint_every,
        progress=progress,
        callback=callback,
        stop=stop,
    )
    return _write_outputs(out_dir, label, system, sampler, mode_names, started)


def _write_outputs(
    out_dir: Path,
    label: str,
    system: System,
    sampler: LangevinTempering,
    mode_names: tuple[str, ...],
    started: float,
) -> dict:
    energies = sampler.recorded_energies().numpy()
    labels = sampler.recorded_labels().numpy()
    save_npz_atomic(out_dir / "series.npz", {"energy": energies, "mode": labels}, mode=0o644)
    saved = sampler.saved_iterations()
    frames = sampler.saved_frames().to(torch.float64).numpy()
    write_target_frames(
        out_dir,
        frames,
        energies[saved - 1],
        labels[saved - 1],
        float(sampler.betas[0]),
        "kJ/mol",
        system.observables,
        topology=system.topology,
        iterations=saved,
    )
    stats = independent_ladder_stats(
        energies,
        labels,
        mode_names,
        label,
        float(sampler.temperatures[0]),
        float(sampler.betas[0]),
        start_of_ladder=sampler.start_of_ladder(),
    )
    stats.update(
        {
            "engine": ENGINE,
            "temperatures": sampler.temperatures.tolist(),
            "swap_acceptance": sampler.swap_acceptance().tolist(),
            "n_trajectory_frames": int(frames.shape[0] * frames.shape[1]),
            "sampling_wall_time_s": float(sampler.wall_time),
            "sampling_cpu_time_s": float(sampler.cpu_time),
            "wall_time_s": time.perf_counter() - started,
        }
    )
    write_json_atomic(out_dir / "stats.json", stats)
    return stats
