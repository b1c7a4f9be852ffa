"""``molgen free-energy``: state free energies and force-field perturbation from samples.

Reads the per-sample ``.npz`` sidecar that ``molgen sample`` writes (format:
:mod:`molgen.estimate.samples`) and, for ``--perturb``, the coordinates beside it. With
``--bar SAMPLES_C`` (samples of the perturbed parameters too), ``ΔF_BC`` by BAR (pymbar)
with one-sided FEP from each side as a cross-check (:mod:`molgen.estimate.two_sets`).
Free energies are in units of kT (and kJ/mol for molecules), with standard errors.
Exit status 1 when an estimate is withheld because the overlap is too poor.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.arguments import positive_float, positive_int, seed
from cli.common import add_ess_threshold_arguments
from cli.outputs import check_json_output, write_json_output
from forcefields.errors import ConfigError

PROBLEM_EXIT = 1


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "free-energy",
        help="state free energies and force-field perturbation (FEP) with error bars",
        description=(
            "Self-normalised importance reweighting of generator samples (weights log_w "
            "from the sidecar .npz): effective sample size, log Z_B with a bootstrap "
            "interval, state populations and free-energy differences (--states), and "
            "free-energy perturbation to other CHARMM parameters (--perturb or "
            "--perturb-system) with the reweighted populations and free energies; with "
            "samples of those parameters too (--bar SAMPLES_C), ΔF by BAR (pymbar) with "
            "one-sided FEP from each side as a cross-check, flagged when they disagree by "
            "more than 2 combined standard errors. "
            "Estimates whose effective sample size is below max(--min-ess, "
            "--min-ess-fraction * n) are refused as 'too few effective samples' (exit 1)."
        ),
    )
    parser.add_argument(
        "samples",
        type=Path,
        help="sidecar .npz, trajectory, run directory, or molgen reference folder",
    )
    parser.add_argument("--system", help="system of the samples (default: the sidecar's)")
    parser.add_argument("--temperature", type=positive_float, help="K (default: the system's, 300)")
    parser.add_argument("--top", type=Path, help="topology for a .dcd/.xtc trajectory")
    parser.add_argument(
        "--states",
        nargs="+",
        metavar="STATE",
        help="states to compare; NAME=A,B merges states (e.g. gauche=gauche+,gauche-)",
    )
    perturb = parser.add_argument_group("free-energy perturbation to other parameters")
    perturb.add_argument("--perturb", type=Path, metavar="PSF", help="CHARMM psf of U_C")
    perturb.add_argument("--prm", type=Path, nargs="+", help="CHARMM prm file(s) of U_C")
    perturb.add_argument("--perturb-system", help="built-in molecule whose variant is U_C")
    perturb.add_argument(
        "--variant", help="force-field variant of --perturb-system (butane: lipid), required"
    )
    perturb.add_argument(
        "--bar",
        type=Path,
        metavar="SAMPLES_C",
        help=(
            "samples of U_C (sidecar, trajectory, run directory, or molgen reference "
            "folder, whose equilibrated frames have log_w = 0): ΔF_BC by BAR, with FEP "
            "from each side as a cross-check. Weighted "
            "(generator) sets are resampled by weight to their Kish ESS for BAR; with "
            "--correlated both sets are cut to frames one statistical inefficiency apart"
        ),
    )
    parser.add_argument(
        "--correlated",
        action="store_true",
        help=(
            "samples are a time series (MD / PT frames); applies to --bar's too (always "
            "on for a set that is a molgen reference folder, and for it alone)"
        ),
    )
    add_ess_threshold_arguments(parser)
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=4096,
        help="frames per energy call (default 4096)",
    )
    parser.add_argument(
        "--seed", type=seed, default=0, help="seed of the log Z bootstrap and BAR resampling"
    )
    parser.add_argument("--json", type=Path, help="write the results to this JSON file")
    parser.set_defaults(func=run)


def parse_states(specs: list[str] | None) -> tuple[list[str] | None, dict[str, list[str]]]:
    """``(state names, groups)`` from ``NAME`` and ``NAME=A,B`` arguments."""
    if not specs:
        return None, {}
    names, groups = [], {}
    for spec in specs:
        name, _, members = spec.partition("=")
        if not name or (members and not all(members.split(","))):
            raise ConfigError(f"--states: cannot read {spec!r} (NAME or NAME=A,B)")
        if name in names:
            raise ConfigError(f"--states: {name!r} given twice")
        names.append(name)
        if members:
            groups[name] = members.split(",")
    if len(names) < 2:
        raise ConfigError("--states: give at least two states")
    return names, groups


def perturbation_files(args: argparse.Namespace) -> tuple[Path, list[Path]] | None:
    """``(psf, [prm, ...])`` of ``U_C`` from ``--perturb/--prm`` or ``--perturb-system``."""
    if args.perturb_system is not None:
        if args.perturb is not None or args.prm is not None:
            raise ConfigError("give --perturb PSF --prm PRM or --perturb-system, not both")
        from systems.files import CHARMM_VARIANTS, charmm_files

        if args.variant is None:
            known = CHARMM_VARIANTS.get(args.perturb_system, ())
            raise ConfigError(
                f"--perturb-system {args.perturb_system} needs --variant (its variants: "
                f"{', '.join(known) or 'none, not a built-in molecule'})"
            )
        files = charmm_files(args.perturb_system, args.variant)
        return files.psf, [files.prm]
    if args.variant is not None:
        raise ConfigError("--variant applies to --perturb-system, which is not given")
    if args.perturb is None and args.prm is None:
        return None
    if args.perturb is None or args.prm is None:
        raise ConfigError("--perturb PSF needs --prm PRM (and the other way round)")
    return args.perturb, list(args.prm)


def run(args: argparse.Namespace) -> int:
    from molgen.estimate.free_energy_report import format_report, free_energy_report
    from molgen.estimate.samples import is_reference_folder

    names, groups = parse_states(args.states)
    correlated = args.correlated or is_reference_folder(args.samples)
    bar_correlated = args.correlated or (args.bar is not None and is_reference_folder(args.bar))
    for path, flag in ((args.samples, correlated), (args.bar, bar_correlated)):
        if flag and not args.correlated:
            print(
                f"{path}: a molgen reference folder of correlated frames: analysed as --correlated"
            )
    if args.json is not None:
        check_json_output(args.json, "--json", "free-energy")
    report = free_energy_report(
        args.samples,
        system_name=args.system,
        temperature=args.temperature,
        topology=args.top,
        states=names,
        groups=groups,
        perturbation=perturbation_files(args),
        bar_samples=args.bar,
        correlated=correlated,
        bar_correlated=bar_correlated,
        min_ess=args.min_ess,
        min_ess_fraction=args.min_ess_fraction,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    print(format_report(report))
    if args.json is not None:
        write_json_output(args.json, report, "free-energy")
    return 0 if report["trusted"] else PROBLEM_EXIT
