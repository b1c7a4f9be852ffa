"""``molgen reference``: parallel-tempering reference data with error bars for a built-in system.

Systems come from :func:`systems.load`: molecules run OpenMM parallel tempering
(openmmtools); toys (the double wells) run the torch Metropolis–Hastings sampler.
Output folder: see :mod:`systems.reference.outputs`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from systems import SYSTEM_NAMES

if TYPE_CHECKING:
    from systems.reference.targets import MoleculeTarget, VectorTarget

DEFAULT_ITERATIONS = 2000
MOLECULE_STEPS = 500
DOUBLE_WELL_STEPS = 10


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "reference",
        help="parallel-tempering reference data (trajectory, energies, stats.json)",
        description=(
            "Parallel tempering at a geometric temperature ladder: OpenMM (openmmtools, "
            "vacuum, Langevin) for CHARMM molecules, Metropolis-Hastings in torch for the "
            "double wells. Writes the target-temperature trajectory, per-frame energies and "
            "observables, and stats.json (statistical inefficiency, effective sample count, "
            "mode populations and free-energy differences with standard errors, MBAR over "
            "the ladder). A killed run continues with --resume."
        ),
    )
    parser.add_argument(
        "system", help=f"one of {', '.join(SYSTEM_NAMES)}, or a folder of CHARMM files"
    )
    parser.add_argument(
        "--temperature",
        type=float,
        help="target temperature (default 300 K; double wells: 1, reduced units)",
    )
    parser.add_argument("--replicas", type=int, default=4, help="temperatures in the ladder")
    parser.add_argument(
        "--tmax", type=float, help="highest temperature (default 2x target; double wells 4x)"
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
        help=f"MD / Metropolis steps between swaps "
        f"(default {MOLECULE_STEPS}; double wells {DOUBLE_WELL_STEPS})",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="output folder (default reference_SYSTEM)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    molecules = parser.add_argument_group("CHARMM molecules (OpenMM)")
    molecules.add_argument("--variant", default="default", help="parameter set (butane: lipid)")
    molecules.add_argument("--platform", choices=["Reference", "CPU"], default="Reference")
    molecules.add_argument("--constraints", choices=["none", "hbonds"], default="none")
    molecules.add_argument("--timestep", type=float, help="fs (default 1; 2 with hbonds)")
    molecules.add_argument("--friction", type=float, default=1.0, help="Langevin, 1/ps")
    wells = parser.add_argument_group("double wells (Metropolis-Hastings)")
    wells.add_argument("--chains", type=int, default=32, help="independent chains")
    wells.add_argument("--burn-in", type=int, default=200, help="step-size adaptation iterations")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from systems.reference.targets import MoleculeTarget, reference_target

    target = reference_target(args.system, args.variant)
    if isinstance(target, MoleculeTarget):
        stats = _run_molecule(args, target)
    else:
        stats = _run_toy(args, target)
    print(_summary(stats, _out_dir(args)))
    return 0


def _out_dir(args: argparse.Namespace) -> Path:
    return args.out if args.out is not None else Path(f"reference_{Path(args.system).name}")


def _run_molecule(args: argparse.Namespace, target: MoleculeTarget) -> dict:
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
    )


def _run_toy(args: argparse.Namespace, target: VectorTarget) -> dict:
    from systems.reference.ladder import geometric_ladder
    from systems.reference.torch_reference import MetropolisSettings, run_metropolis_reference

    temperature = 1.0 if args.temperature is None else args.temperature
    tmax = 4.0 * temperature if args.tmax is None else args.tmax
    settings = MetropolisSettings(
        temperatures=geometric_ladder(temperature, tmax, args.replicas),
        n_chains=args.chains,
        steps_per_iteration=_steps(args, DOUBLE_WELL_STEPS),
        burn_in_iterations=args.burn_in,
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
    )


def _steps(args: argparse.Namespace, default: int) -> int:
    return default if args.steps_per_iteration is None else args.steps_per_iteration


def _system_label(name: str, variant: str) -> str:
    return name if variant == "default" else f"{name}:{variant}"


def _summary(stats: dict, out_dir: Path) -> str:
    lines = [
        f"{stats['system']} at {stats['temperature']:g}: {stats['n_frames']} frames, "
        f"equilibration {stats['equilibration_frames']}, "
        f"g = {stats['statistical_inefficiency']:.1f}, n_eff = {stats['n_effective']:.0f}",
    ]
    mbar = stats["mbar"] if stats["mbar"] and "populations" in stats["mbar"] else None
    for index, (mode, value) in enumerate(stats["populations"].items()):
        line = f"  {mode:>10s}: {value['mean']:.4f} +- {value['sem']:.4f}"
        if mbar is not None:
            estimate = list(mbar["populations"][0].values())[index]
            line += f"   (MBAR over the ladder: {estimate['mean']:.4f} +- {estimate['sem']:.4f})"
        lines.append(line)
    lines.append(f"written to {out_dir}/ (stats.json)")
    return "\n".join(lines)
