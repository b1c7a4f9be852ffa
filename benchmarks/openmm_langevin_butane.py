"""Butane populations from independent plain OpenMM Langevin runs, for checking tempering.

Runs ``--trajectories`` independent OpenMM ``LangevinMiddleIntegrator`` trajectories of
butane in vacuum (300 K, 1 fs, friction 1/ps, no constraints), all started from the
minimised positions of ``systems.reference.targets.reference_target("butane")`` with their
own random seed and Maxwell-Boltzmann velocities. After ``--burn-in`` ps each trajectory
records the C1-C2-C3-C4 dihedral mode (``systems.load("butane").mode_names``) and the
potential energy every ``--stride`` fs for ``--time`` ps.

Populations are the mean over trajectories of the per-trajectory mode fractions; their
standard error is the standard deviation over trajectories (``ddof=1``) divided by
sqrt(K). The trajectories are independent, so this needs no autocorrelation model, only
enough trajectories (K >= 2; K ~ 16 or more for a usable error of the error). The mean
potential energy (kJ/mol) gets the same treatment.

Writes ``<out>/stats.json`` (atomically). With ``--compare STATS`` (a ``molgen reference``
``stats.json``) it adds, per mode, the difference (this run minus the reference), the
combined standard error sqrt(s1^2 + s2^2) and z = difference / combined error, and prints
them as a table.

For a 14-atom molecule OpenMM's Reference platform is much faster than the CPU platform
(measured here: ~170 000 against ~10 000 steps/s on one core, OpenMM 8.6), so long runs
should pass ``--platform Reference``; the CPU platform runs with ``Threads=1`` and falls
back to Reference where it is unavailable.

The stored result (``benchmarks/results/reference/butane_openmm_plain_langevin_stats.json``,
about 11 minutes on one shared x86-64 core) came from

    nice -n 10 env OMP_NUM_THREADS=1 python -m benchmarks.openmm_langevin_butane \\
        --out /tmp/olb_real --platform Reference --trajectories 32 --burn-in 200 --time 3000 \\
        --stride 100 --seed 2024 --compare benchmarks/results/reference/butane_openmm_stats.json
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import openmm
from openmm import unit
from tqdm.auto import tqdm

from forcefields.errors import ConfigError, InputFileError
from forcefields.openmm_oracle import openmm_platform
from molgen.estimate.report import comparison_entry
from systems.reference.atomic_files import write_json_atomic
from systems.reference.targets import MoleculeTarget, reference_target

__all__ = [
    "Settings",
    "check_settings",
    "compare_populations",
    "comparison_table",
    "load_reference_stats",
    "main",
    "make_context",
    "run",
    "run_trajectory",
    "summarise",
    "trajectory_seeds",
]

SYSTEM = "butane"
TEMPERATURE = 300.0
"""K."""
TIMESTEP_FS = 1.0
FRICTION_PER_PS = 1.0
PLATFORMS = ("CPU", "Reference")
ERROR_METHOD = (
    "K independent trajectories: population = mean over trajectories of the per-trajectory "
    "mode fraction, standard error = std over trajectories (ddof=1) / sqrt(K); the same for "
    "the mean potential energy"
)


@dataclass(frozen=True)
class Settings:
    """What one benchmark run simulates.

    Arguments:
        n_trajectories: K independent trajectories (at least 2).
        burn_in_ps: discarded time at the start of each trajectory, ps (>= 0).
        time_ps: recorded time per trajectory, ps.
        stride_fs: time between recorded frames, fs (a whole number of 1 fs steps).
        seed: master seed; each trajectory draws its integrator and velocity seeds from it.
        platform: ``"CPU"`` (``Threads=1``; Reference if unavailable) or ``"Reference"``.
    """

    n_trajectories: int = 16
    burn_in_ps: float = 200.0
    time_ps: float = 1000.0
    stride_fs: float = 100.0
    seed: int = 0
    platform: str = "CPU"

    @property
    def stride_steps(self) -> int:
        """Integrator steps between recorded frames."""
        return round(self.stride_fs / TIMESTEP_FS)

    @property
    def burn_in_steps(self) -> int:
        """Integrator steps of the burn-in."""
        return round(self.burn_in_ps * 1000.0 / TIMESTEP_FS)

    @property
    def n_frames(self) -> int:
        """Recorded frames per trajectory."""
        return round(self.time_ps * 1000.0 / self.stride_fs)


def check_settings(settings: Settings) -> None:
    """Raise :class:`ConfigError` naming the option of the first out-of-range value."""
    if settings.n_trajectories < 2:
        raise ConfigError(
            f"--trajectories must be at least 2 (errors come from the spread over "
            f"trajectories), got {settings.n_trajectories}"
        )
    for option, value in (("--time", settings.time_ps), ("--stride", settings.stride_fs)):
        if not (math.isfinite(value) and value > 0):
            raise ConfigError(f"{option} must be a positive number, got {value}")
    if not (math.isfinite(settings.burn_in_ps) and settings.burn_in_ps >= 0):
        raise ConfigError(f"--burn-in must be zero or positive (ps), got {settings.burn_in_ps}")
    if abs(settings.stride_fs / TIMESTEP_FS - settings.stride_steps) > 1e-9:
        raise ConfigError(
            f"--stride must be a whole number of {TIMESTEP_FS:g} fs steps, got {settings.stride_fs}"
        )
    if abs(settings.time_ps * 1000.0 / settings.stride_fs - settings.n_frames) > 1e-9:
        raise ConfigError(
            f"--time must be a whole number of --stride intervals, got {settings.time_ps} ps "
            f"and {settings.stride_fs} fs"
        )
    if settings.n_frames < 1:
        raise ConfigError(
            f"--time must cover at least one --stride, got {settings.time_ps} ps and "
            f"{settings.stride_fs} fs"
        )
    if settings.platform not in PLATFORMS:
        raise ConfigError(f"--platform must be one of {PLATFORMS}, got {settings.platform!r}")


def load_reference_stats(path: Path, mode_names: tuple[str, ...]) -> dict[str, Any]:
    """Read a ``molgen reference`` ``stats.json`` and check it has ``mode_names``' populations.

    Raises:
        InputFileError: missing or unreadable file, or populations without mean/sem per mode.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"--compare: {path}: no such file")
    try:
        stats = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputFileError(f"--compare: {path}: not a readable JSON file ({error})") from error
    populations = stats.get("populations") if isinstance(stats, dict) else None
    for mode in mode_names:
        entry = populations.get(mode) if isinstance(populations, dict) else None
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(key), int | float) for key in ("mean", "sem")
        ):
            raise InputFileError(f"--compare: {path}: no populations.{mode}.mean/sem")
    return stats


def _platform(name: str) -> tuple[openmm.Platform, dict[str, str]]:
    """The OpenMM platform ``name`` and its properties; Reference if CPU is unavailable."""
    try:
        return openmm_platform(name)
    except openmm.OpenMMException:
        return openmm_platform("Reference")


def trajectory_seeds(seed: int, n_trajectories: int) -> np.ndarray:
    """``(K, 2)`` nonzero int32 seeds (integrator, velocities) drawn from ``seed``.

    OpenMM reads a seed of 0 as "pick one at random", so 0 is never drawn.
    """
    return np.random.default_rng(seed).integers(1, 2**31 - 1, size=(n_trajectories, 2))


def make_context(
    target: MoleculeTarget, platform: str, seeds: tuple[int, int]
) -> tuple[openmm.Context, openmm.LangevinMiddleIntegrator]:
    """A context at the minimised positions with velocities drawn at 300 K.

    Arguments:
        target: the butane target (OpenMM system and ``(N, 3)`` nm positions).
        platform: ``"CPU"`` or ``"Reference"`` (see :func:`_platform`).
        seeds: integrator seed and velocity seed (both nonzero).
    """
    integrator = openmm.LangevinMiddleIntegrator(
        TEMPERATURE * unit.kelvin,
        FRICTION_PER_PS / unit.picosecond,
        TIMESTEP_FS * unit.femtoseconds,
    )
    integrator.setRandomNumberSeed(int(seeds[0]))
    openmm_platform, properties = _platform(platform)
    context = openmm.Context(target.openmm_system, integrator, openmm_platform, properties)
    context.setPositions(target.positions)
    context.setVelocitiesToTemperature(TEMPERATURE * unit.kelvin, int(seeds[1]))
    return context, integrator


def run_trajectory(
    target: MoleculeTarget, settings: Settings, seeds: tuple[int, int], bar: tqdm
) -> tuple[np.ndarray, np.ndarray]:
    """One trajectory: burn-in, then ``settings.n_frames`` recorded frames.

    Returns:
        ``(F,)`` int mode labels and ``(F,)`` potential energies in kJ/mol.
    """
    context, integrator = make_context(target, settings.platform, seeds)
    remaining = settings.burn_in_steps
    while remaining > 0:
        chunk = min(remaining, 1000)
        integrator.step(chunk)
        bar.update(chunk)
        remaining -= chunk
    positions = np.empty((settings.n_frames, len(target.positions), 3))
    energies = np.empty(settings.n_frames)
    for frame in range(settings.n_frames):
        integrator.step(settings.stride_steps)
        state = context.getState(getPositions=True, getEnergy=True)
        positions[frame] = state.getPositions(asNumpy=True).value_in_unit(unit.nanometer)
        energies[frame] = state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
        bar.update(settings.stride_steps)
    return np.asarray(target.labels(positions), dtype=np.int64), energies


def _mean_sem(values: np.ndarray) -> dict[str, float]:
    """Mean and standard error of independent ``(K,)`` values (std with ddof=1 / sqrt(K))."""
    return {
        "mean": float(values.mean()),
        "sem": float(values.std(ddof=1) / math.sqrt(len(values))),
    }


def summarise(
    fractions: np.ndarray, mean_energies: np.ndarray, mode_names: tuple[str, ...]
) -> dict[str, Any]:
    """Populations and mean energy with standard errors over trajectories.

    Arguments:
        fractions: ``(K, M)`` per-trajectory mode fractions (rows sum to 1).
        mean_energies: ``(K,)`` per-trajectory mean potential energies, kJ/mol.
        mode_names: the M mode names.
    """
    return {
        "populations": {
            mode: _mean_sem(fractions[:, index]) for index, mode in enumerate(mode_names)
        },
        "energy": _mean_sem(mean_energies),
    }


def _difference(mine: dict[str, float], reference: dict[str, float]) -> dict[str, float]:
    return {
        "mean": mine["mean"],
        "sem": mine["sem"],
        "reference_mean": reference["mean"],
        "reference_sem": reference["sem"],
        **comparison_entry(mine["mean"], mine["sem"], reference["mean"], reference["sem"]),
    }


def compare_populations(
    stats: dict[str, Any], reference: dict[str, Any], reference_path: Path | str
) -> dict[str, Any]:
    """Per mode (and for the energy, when the reference has one): this run minus the reference.

    Each entry has ``difference``, ``combined_sem`` = sqrt(s1^2 + s2^2) and
    ``z`` = difference / combined_sem (``None`` where it is not finite) and ``within_2_sem``
    (:func:`molgen.estimate.report.comparison_entry`), besides both means and errors.
    """
    comparison = {
        "reference": str(reference_path),
        "reference_engine": reference.get("engine", "openmm"),
        "reference_command": reference.get("command"),
        "populations": {
            mode: _difference(value, reference["populations"][mode])
            for mode, value in stats["populations"].items()
        },
    }
    energy = reference.get("energy")
    if isinstance(energy, dict) and {"mean", "sem"} <= set(energy):
        comparison["energy"] = _difference(stats["energy"], energy)
    return comparison


def comparison_table(comparison: dict[str, Any]) -> str:
    """A plain-text table of a :func:`compare_populations` result."""
    lines = [
        f"against {comparison['reference']} ({comparison['reference_engine']})",
        f"{'':<10} {'this run':>17} {'reference':>17} {'difference':>11} {'combined':>9} {'z':>6}",
    ]
    rows = dict(comparison["populations"])
    if "energy" in comparison:
        rows["U (kJ/mol)"] = comparison["energy"]
    for name, row in rows.items():
        z = "n/a" if row["z"] is None else f"{row['z']:+.2f}"
        difference = "n/a" if row["difference"] is None else f"{row['difference']:+.4f}"
        combined = "n/a" if row["combined_sem"] is None else f"{row['combined_sem']:.4f}"
        lines.append(
            f"{name:<10} {row['mean']:>8.4f} ± {row['sem']:<6.4f} "
            f"{row['reference_mean']:>8.4f} ± {row['reference_sem']:<6.4f} "
            f"{difference:>11} {combined:>9} {z:>6}"
        )
    return "\n".join(lines)


def run(settings: Settings, target: MoleculeTarget, progress: bool = True) -> dict[str, Any]:
    """Simulate the K trajectories of ``target`` (butane) and return the summary (no file written).

    Returns:
        :func:`summarise`'s dict plus ``per_trajectory`` fractions and mean energies,
        ``mode_names``, the platform actually used and wall/CPU seconds.
    """
    seeds = trajectory_seeds(settings.seed, settings.n_trajectories)
    n_modes = len(target.mode_names)
    fractions = np.empty((settings.n_trajectories, n_modes))
    mean_energies = np.empty(settings.n_trajectories)
    steps = settings.burn_in_steps + settings.n_frames * settings.stride_steps
    wall, cpu = time.perf_counter(), time.process_time()
    with tqdm(
        total=settings.n_trajectories * steps, unit="step", unit_scale=True, disable=not progress
    ) as bar:
        for index, pair in enumerate(seeds):
            labels, energies = run_trajectory(target, settings, tuple(pair), bar)
            fractions[index] = np.bincount(labels, minlength=n_modes) / len(labels)
            mean_energies[index] = energies.mean()
    summary = summarise(fractions, mean_energies, target.mode_names)
    summary.update(
        mode_names=list(target.mode_names),
        platform=_platform(settings.platform)[0].getName(),
        per_trajectory={"populations": fractions.tolist(), "energy": mean_energies.tolist()},
        wall_time_s=time.perf_counter() - wall,
        cpu_time_s=time.process_time() - cpu,
    )
    return summary


def _parser() -> argparse.ArgumentParser:
    defaults = Settings()
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.openmm_langevin_butane",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for stats.json")
    parser.add_argument(
        "--trajectories", type=int, default=defaults.n_trajectories, help="K (>= 2)"
    )
    parser.add_argument("--burn-in", type=float, default=defaults.burn_in_ps, help="ps")
    parser.add_argument(
        "--time", type=float, default=defaults.time_ps, help="recorded ps per trajectory"
    )
    parser.add_argument("--stride", type=float, default=defaults.stride_fs, help="fs")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--platform", choices=PLATFORMS, default=defaults.platform)
    parser.add_argument("--compare", type=Path, help="a molgen reference stats.json")
    parser.add_argument("--no-progress", action="store_true", help="no tqdm bar")
    return parser


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, write ``<out>/stats.json`` and return its contents."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(arguments)
    settings = Settings(
        n_trajectories=args.trajectories,
        burn_in_ps=args.burn_in,
        time_ps=args.time,
        stride_fs=args.stride,
        seed=args.seed,
        platform=args.platform,
    )
    check_settings(settings)
    target = reference_target(SYSTEM)
    reference = None
    if args.compare is not None:
        reference = load_reference_stats(args.compare, tuple(target.mode_names))
    summary = run(settings, target, progress=not args.no_progress)
    stats = {
        "system": SYSTEM,
        "temperature": TEMPERATURE,
        "engine": "openmm-langevin",
        "energy_unit": "kJ/mol",
        "n_trajectories": settings.n_trajectories,
        "burn_in_ps": settings.burn_in_ps,
        "time_ps_per_trajectory": settings.time_ps,
        "stride_fs": settings.stride_fs,
        "n_frames_per_trajectory": settings.n_frames,
        "timestep_fs": TIMESTEP_FS,
        "friction_per_ps": FRICTION_PER_PS,
        "integrator": "LangevinMiddleIntegrator",
        "openmm_version": openmm.__version__,
        "settings": asdict(settings),
        "error_method": ERROR_METHOD,
        **summary,
        "command": "python -m benchmarks.openmm_langevin_butane " + shlex.join(arguments),
    }
    if reference is not None:
        stats["comparison"] = compare_populations(stats, reference, args.compare)
        print(comparison_table(stats["comparison"]))
    args.out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(args.out / "stats.json", stats)
    return stats


if __name__ == "__main__":
    main()
