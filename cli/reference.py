"""``molgen reference``: parallel-tempering reference data with error bars for a built-in system.

Systems come from :func:`systems.load`: molecules run OpenMM parallel tempering
(openmmtools, the default engine) or, with ``--engine langevin``, batched torch Langevin
replica exchange over many independent ladders; toys (the double wells) run the torch
Metropolis–Hastings sampler. Output folder: see :mod:`systems.reference.outputs` and
:mod:`systems.reference.langevin_reference`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cli.arguments import positive_float, seed
from systems import SYSTEM_NAMES
from systems.reference.populations import required_effective_frames

if TYPE_CHECKING:
    import numpy as np

    from systems import System
    from systems.reference.stopping import SamplingStopped, StopCheck
    from systems.reference.targets import MoleculeTarget, VectorTarget

DEFAULT_ITERATIONS = 2000
MOLECULE_STEPS = 500
LANGEVIN_STEPS = 50
DOUBLE_WELL_STEPS = 10
DOUBLE_WELL_BURN_IN = 200
LANGEVIN_BURN_IN = 400
ENGINES = ("openmm", "langevin")
LANGEVIN_ONLY = {
    "ladders": 64,
    "save_every": 10,
    "dtype": "float32",
    "compile": False,
    "threads": None,
    "device": "cpu",
    "start": None,
}
"""Options of ``--engine langevin`` (dest → default); the other samplers refuse them."""
OPENMM_ONLY = {"platform": "Reference", "constraints": "none"}
"""Options of the openmm engine (dest → default)."""
MOLECULE_ONLY = {"timestep": None, "friction": 1.0, "variant": "default"}
"""Options of both molecule engines (dest → default); the double wells refuse them."""
WELLS_ONLY = {"chains": 32}
"""Options of the double wells' Metropolis sampler (dest → default)."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "reference",
        help="parallel-tempering reference data (trajectory, energies, stats.json)",
        description=(
            "Parallel tempering at a geometric temperature ladder: OpenMM (openmmtools, "
            "vacuum, Langevin) or batched torch Langevin replica exchange over independent "
            "ladders (--engine langevin) for CHARMM molecules, Metropolis-Hastings in torch "
            "for the double wells. Writes the target-temperature trajectory, per-frame "
            "energies and observables, and stats.json (statistical inefficiency, effective "
            "sample count, mode populations and free-energy differences with standard errors; "
            "MBAR over the ladder, or errors from the spread of the independent ladders). "
            "SIGINT (Ctrl-C) or SIGTERM stops the run after the current iteration, "
            "checkpointed; a stopped or killed run continues with --resume."
        ),
    )
    parser.add_argument(
        "system", help=f"one of {', '.join(SYSTEM_NAMES)}, or a folder of CHARMM files"
    )
    parser.add_argument(
        "--temperature",
        type=positive_float,
        help="target temperature (default 300 K; double wells: 1, reduced units)",
    )
    parser.add_argument("--replicas", type=int, default=4, help="temperatures in the ladder")
    parser.add_argument(
        "--tmax",
        type=positive_float,
        help="highest temperature (default 2x target; double wells 4x)",
    )
    parser.add_argument(
        "--iterations",
        type=int,
        default=DEFAULT_ITERATIONS,
        help="recorded iterations: one frame per temperature (and chain) each",
    )
    parser.add_argument(
        "--steps-per-iteration",
        type=int,
        help=f"MD / Metropolis steps between swaps (default {MOLECULE_STEPS}; "
        f"--engine langevin {LANGEVIN_STEPS}; double wells {DOUBLE_WELL_STEPS})",
    )
    parser.add_argument("--seed", type=seed, default=0, help="random seed, 0 <= seed < 2**32")
    parser.add_argument("--out", type=Path, help="output folder (default reference_SYSTEM)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument(
        "--plots",
        action="store_true",
        help="also write PNGs: Ramachandran, dihedral or x0 histogram, energy histogram, "
        "mode populations against the iteration",
    )
    parser.add_argument(
        "--burn-in",
        type=int,
        help=f"iterations before recording (double wells: step-size adaptation, default "
        f"{DOUBLE_WELL_BURN_IN}; --engine langevin: default {LANGEVIN_BURN_IN}; not the "
        f"openmm engine, which records every iteration)",
    )
    molecules = parser.add_argument_group("CHARMM molecules")
    molecules.add_argument(
        "--variant", default=MOLECULE_ONLY["variant"], help="parameter set (butane: lipid)"
    )
    molecules.add_argument(
        "--engine",
        choices=ENGINES,
        help="molecule sampler (default openmm); the double wells use Metropolis-Hastings",
    )
    molecules.add_argument("--timestep", type=positive_float, help="fs (default 1; 2 with hbonds)")
    molecules.add_argument(
        "--friction",
        type=positive_float,
        default=MOLECULE_ONLY["friction"],
        help="Langevin, 1/ps (default 1)",
    )
    molecules.add_argument(
        "--platform",
        choices=["Reference", "CPU"],
        default=OPENMM_ONLY["platform"],
        help="openmm engine",
    )
    molecules.add_argument(
        "--constraints",
        choices=["none", "hbonds"],
        default=OPENMM_ONLY["constraints"],
        help="openmm engine",
    )
    langevin = parser.add_argument_group("--engine langevin (torch, independent ladders)")
    langevin.add_argument(
        "--ladders", type=int, default=LANGEVIN_ONLY["ladders"], help="independent ladders"
    )
    langevin.add_argument(
        "--save-every",
        type=int,
        default=LANGEVIN_ONLY["save_every"],
        help="recorded iterations per trajectory frame",
    )
    langevin.add_argument("--dtype", choices=["float32", "float64"], default=LANGEVIN_ONLY["dtype"])
    langevin.add_argument("--compile", action="store_true", help="torch.compile each step")
    langevin.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    langevin.add_argument(
        "--device", default=LANGEVIN_ONLY["device"], help="cpu or cuda[:i] (default cpu)"
    )
    langevin.add_argument(
        "--start",
        type=Path,
        help="structures the ladders start from in turn (the frames of a file mdtraj reads; "
        "a dcd, such as an earlier run's trajectory.dcd, with the system's pdb as topology; "
        "default the system's minimised positions): starting from several states tests "
        "convergence",
    )
    wells = parser.add_argument_group("double wells (Metropolis-Hastings)")
    wells.add_argument(
        "--chains", type=int, default=WELLS_ONLY["chains"], help="independent chains"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Sample, export and summarise; on SIGINT or SIGTERM stop after the current iteration
    (checkpointed) and say how to resume (exit status 130, as ``molgen train``)."""
    from molgen.training.run_state import StopRequest
    from systems.reference.mpi_ranks import is_first_process
    from systems.reference.stopping import SamplingStopped

    # Under mpiexec this first look at the communicator installs mpiplus's SIGINT/SIGTERM
    # handlers (an MPI abort); the stop request's, installed after them, replace them.
    first = is_first_process()
    request = StopRequest()
    try:
        with request.installed():
            stats = _sample(args, lambda: request.requested)
    except SamplingStopped as stopped:
        if first:
            print(_resume_hint(args, stopped), file=sys.stderr)
        return 130
    if not first:
        return 0
    if request.requested:
        print(
            "molgen reference: the stop request came after the last iteration; the run "
            "finished (a second Ctrl-C stops at once)",
            file=sys.stderr,
        )
    print(_summary(stats, _out_dir(args)))
    if args.plots:
        from molgen.plots.reference_plots import plot_reference

        written = plot_reference(_out_dir(args))
        print("plots: " + ", ".join(path.name for path in written))
    return 0


def _resume_hint(args: argparse.Namespace, stopped: SamplingStopped) -> str:
    """The line a stopped run prints: where it stopped and the command that continues it."""
    return (
        f"molgen reference: {stopped}, checkpointed in {_out_dir(args)}; to continue, run "
        "the same command with --resume"
    )


def _sample(args: argparse.Namespace, stop: StopCheck) -> dict:
    """Run the sampler the system and ``--engine`` call for; return its statistics."""
    from forcefields.errors import ConfigError
    from systems.reference.targets import MoleculeTarget, reference_target

    if args.tmax is not None and args.replicas == 1:
        raise ConfigError("tmax: a ladder of one replica has no highest temperature to set")
    if args.engine == "langevin":
        _refuse_unused(args, {**OPENMM_ONLY, **WELLS_ONLY}, "--engine langevin")
        return _run_langevin(args, stop)
    target = reference_target(args.system, args.variant)
    if isinstance(target, MoleculeTarget):
        if args.burn_in is not None:
            raise ConfigError(
                "burn_in: the openmm engine records every iteration (stats.json drops "
                "the equilibration it detects); --burn-in applies to --engine langevin "
                "and the double wells"
            )
        _refuse_unused(args, {**LANGEVIN_ONLY, **WELLS_ONLY}, "the openmm engine")
        return _run_molecule(args, target, stop)
    if args.engine is not None:
        raise ConfigError(
            f"engine: --engine {args.engine} samples CHARMM molecules; the double "
            "wells are sampled by Metropolis-Hastings (leave --engine out)"
        )
    _refuse_unused(args, {**LANGEVIN_ONLY, **OPENMM_ONLY, **MOLECULE_ONLY}, "the double wells")
    return _run_toy(args, target, stop)


def _refuse_unused(args: argparse.Namespace, defaults: dict, sampler: str) -> None:
    """Raise :class:`ConfigError` for an option of ``defaults`` (dest → default) given with
    another value: ``sampler`` would ignore it."""
    from forcefields.errors import ConfigError

    given = [name for name, default in defaults.items() if getattr(args, name) != default]
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise ConfigError(f"{given[0]}: {flags} not used by {sampler}; leave it out")


def _out_dir(args: argparse.Namespace) -> Path:
    return args.out if args.out is not None else Path(f"reference_{Path(args.system).name}")


def _run_molecule(args: argparse.Namespace, target: MoleculeTarget, stop: StopCheck) -> dict:
    from systems.reference.ladder import geometric_ladder
    from systems.reference.molecule_reference import run_openmm_reference
    from systems.reference.openmm_tempering import TemperingSettings

    temperature = 300.0 if args.temperature is None else args.temperature
    tmax = 2.0 * temperature if args.tmax is None else args.tmax
    timestep = args.timestep
    if timestep is None:
        timestep = 2.0 if args.constraints == "hbonds" else 1.0
    settings = TemperingSettings(
        temperatures=geometric_ladder(temperature, tmax, args.replicas),
        steps_per_iteration=_steps(args, MOLECULE_STEPS),
        timestep=timestep,
        collision_rate=args.friction,
        platform=args.platform,
        seed=args.seed,
    )
    return run_openmm_reference(
        _out_dir(args),
        _system_label(target.name, args.variant),
        target.openmm_system,
        target.positions,
        target.topology,
        target.labels,
        target.mode_names,
        target.observables,
        settings,
        args.iterations,
        constraints=args.constraints,
        resume=args.resume,
        progress=not args.no_progress,
        stop=stop,
    )


def _run_langevin(args: argparse.Namespace, stop: StopCheck) -> dict:
    import torch

    import systems
    from forcefields.errors import ConfigError
    from systems.reference.ladder import geometric_ladder
    from systems.reference.langevin_reference import LangevinSettings, run_langevin_reference

    if args.threads is not None:
        if args.threads < 1:
            raise ConfigError(f"threads: must be positive, got {args.threads}")
        torch.set_num_threads(args.threads)
    system = systems.load(args.system, variant=args.variant)
    temperature = 300.0 if args.temperature is None else args.temperature
    tmax = 2.0 * temperature if args.tmax is None else args.tmax
    settings = LangevinSettings(
        temperatures=tuple(float(t) for t in geometric_ladder(temperature, tmax, args.replicas)),
        n_ladders=args.ladders,
        steps_per_iteration=_steps(args, LANGEVIN_STEPS),
        timestep=1.0 if args.timestep is None else args.timestep,
        friction=args.friction,
        burn_in_iterations=LANGEVIN_BURN_IN if args.burn_in is None else args.burn_in,
        save_every=args.save_every,
        dtype=args.dtype,
        compile=args.compile,
        seed=args.seed,
        device=args.device,
    )
    return run_langevin_reference(
        _out_dir(args),
        system,
        settings,
        args.iterations,
        system_label=_system_label(system.name, args.variant),
        resume=args.resume,
        progress=not args.no_progress,
        starts=None if args.start is None else _start_structures(args.start, system),
        stop=stop,
    )


def _start_structures(path: Path, system: System) -> np.ndarray:
    """The frames of ``path`` ``(S, N, 3)`` nm (a format without its own topology, such as
    dcd, is read with the system's pdb as topology), checked against ``system``'s atom count."""
    from forcefields.errors import ConfigError, ShapeMismatchError
    from systems.trajectories import carries_topology, read_frames

    if system.kind != "molecule":
        raise ConfigError(f"engine langevin: {system.name} is not a CHARMM molecule")
    frames = read_frames(path, None if carries_topology(path) else system.pdb)
    if frames.shape[1:] != system.positions.shape:
        raise ShapeMismatchError(
            f"{path}: {frames.shape[1]} atoms, but {system.name} has {len(system.positions)}"
        )
    return frames


def _run_toy(args: argparse.Namespace, target: VectorTarget, stop: StopCheck) -> dict:
    from systems.reference.ladder import geometric_ladder
    from systems.reference.torch_reference import MetropolisSettings, run_metropolis_reference

    temperature = 1.0 if args.temperature is None else args.temperature
    tmax = 4.0 * temperature if args.tmax is None else args.tmax
    settings = MetropolisSettings(
        temperatures=geometric_ladder(temperature, tmax, args.replicas),
        n_chains=args.chains,
        steps_per_iteration=_steps(args, DOUBLE_WELL_STEPS),
        burn_in_iterations=DOUBLE_WELL_BURN_IN if args.burn_in is None else args.burn_in,
        seed=args.seed,
    )
    return run_metropolis_reference(
        _out_dir(args),
        target.name,
        target.energy,
        target.initial,
        target.labels,
        target.mode_names,
        target.observables,
        settings,
        args.iterations,
        resume=args.resume,
        progress=not args.no_progress,
        stop=stop,
    )


def _steps(args: argparse.Namespace, default: int) -> int:
    return default if args.steps_per_iteration is None else args.steps_per_iteration


def _system_label(name: str, variant: str) -> str:
    return name if variant == "default" else f"{name}:{variant}"


def _summary(stats: dict, out_dir: Path) -> str:
    n_effective = stats["n_effective"]
    # the frames the statistics use: each chain's leading equilibration frames are dropped
    used = stats["n_frames"] - stats["equilibration_frames"] * stats["n_chains"]
    warning = (
        f"   (n_eff {n_effective:.0f}: not enough decorrelated frames)"
        if n_effective < required_effective_frames(used)
        else ""
    )
    lines = [
        f"{stats['system']} at {stats['temperature']:g}: {stats['n_frames']} frames, "
        f"{stats['n_chains']} chains, first {stats['equilibration_frames']} frames of each dropped "
        "(equilibration), "
        f"g = {stats['statistical_inefficiency']:.1f}, n_eff = {stats['n_effective']:.0f}",
    ]
    mbar = stats.get("mbar")
    mbar = mbar if mbar and "populations" in mbar else None
    for index, (mode, value) in enumerate(stats["populations"].items()):
        line = f"  {mode:>10s}: {value['mean']:.4f} +- {value['sem']:.4f}"
        if mbar is not None:
            estimate = list(mbar["populations"][0].values())[index]
            line += f"   (MBAR over the ladder: {estimate['mean']:.4f} +- {estimate['sem']:.4f})"
        lines.append(line + warning)
    for group, difference in stats.get("starts", {}).get("differences", {}).items():
        shifts = ", ".join(
            f"{mode} {shift['mean']:+.4f} +- {shift['sem']:.4f}"
            for mode, shift in difference.items()
        )
        lines.append(f"  {group}: {shifts}")
    lines.append(f"written to {out_dir}/ (stats.json)")
    return "\n".join(lines)
