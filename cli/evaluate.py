"""``molgen evaluate``: compare generator samples with a reference run.

Writes ``report.json`` (ESS, log Z_B, reweighted mode populations and state free energies
with standard errors beside the reference's) and PNG plots; see
:mod:`molgen.plots.evaluation`. Samples: the sidecar ``.npz`` of ``molgen sample``
(format: :mod:`molgen.estimate.samples`). With ``--max-z Z``, exit status 3 when a
population that is given differs from the reference's by more than ``Z`` combined
standard errors (even when others are withheld: a generator that lost a mode has its
other populations far off); otherwise exit status 1 when the effective sample size is
too small to give every population.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.arguments import positive_float, seed
from cli.common import add_ess_threshold_arguments
from cli.outputs import check_output_folder

PROBLEM_EXIT = 1
DISAGREEMENT_EXIT = 3


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="samples vs a reference run: report.json and plots",
        description=(
            "Reweight generator samples to the Boltzmann distribution and compare them with "
            "a `molgen reference` folder: mode populations and free energies with error "
            "bars, log Z_B, effective sample size; plots of dihedral / Ramachandran "
            "densities, populations, reduced-energy and log-weight histograms, U_B vs U_G."
        ),
    )
    parser.add_argument(
        "samples",
        type=Path,
        help="sidecar .npz, trajectory, run directory, or molgen reference folder",
    )
    parser.add_argument(
        "--reference", type=Path, required=True, help="folder of `molgen reference`"
    )
    parser.add_argument(
        "--out", type=Path, help="output folder (default: the run directory, or beside the samples)"
    )
    parser.add_argument("--system", help="system of the samples (default: sidecar, reference)")
    parser.add_argument("--temperature", type=positive_float, help="K (default: the system's, 300)")
    parser.add_argument("--top", type=Path, help="topology for a .dcd/.xtc trajectory")
    add_ess_threshold_arguments(parser)
    parser.add_argument(
        "--correlated",
        action="store_true",
        help=(
            "the samples are a time series (MD or parallel-tempering frames): the ESS and "
            "the errors count their statistical inefficiency (always on for a molgen "
            "reference folder)"
        ),
    )
    parser.add_argument(
        "--max-z",
        type=positive_float,
        metavar="Z",
        help=(
            "exit status 3 when a population differs from the reference's by more than Z "
            "combined standard errors (default: no check; the report is written either way)"
        ),
    )
    parser.add_argument("--seed", type=seed, default=0, help="seed of the log Z bootstrap")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from molgen.estimate.ess import EssThreshold
    from molgen.estimate.samples import find_sidecar
    from molgen.estimate.tail import tail_warning
    from molgen.plots.evaluation import evaluate_samples

    out = args.out
    if out is None:
        out = args.samples if args.samples.is_dir() else find_sidecar(args.samples).parent
    check_output_folder(Path(out), "--out")
    report = evaluate_samples(
        args.samples,
        args.reference,
        out,
        system_name=args.system,
        temperature=args.temperature,
        topology=args.top,
        threshold=EssThreshold(args.min_ess, args.min_ess_fraction),
        seed=args.seed,
        correlated=args.correlated,
    )
    if report["correlated"] and not args.correlated:
        print("a molgen reference folder holds correlated frames: analysed as --correlated")
    print(f"samples: {report['samples']}  (n = {report['n']})")
    kind = "ESS (Kish / statistical inefficiency)" if report["correlated"] else "Kish ESS"
    print(f"{kind}: {report['ess']:.1f} ({100 * report['ess_fraction']:.2f} %)")
    warning = tail_warning(report["pareto_k"], report["n"])
    if warning:
        print(f"warning: {warning}")
    comparisons = report.get("population_comparison", {})
    for name, entry in report["populations"].items():
        reference = report["reference_populations"].get(name, {})
        if not entry["trusted"]:
            print(f"  {name}: not given: {entry['reason']}")
            continue
        line = f"  {name}: {entry['mean']:.4f} ± {entry['sem']:.4f}"
        if reference:
            line += f"   reference {reference['mean']:.4f} ± {reference['sem']:.4f}"
            z = comparisons.get(name, {}).get("z")
            line += "" if z is None else f"   z = {z:+.2f}"
        print(line)
    energy = report.get("mean_energy")
    if energy is not None and energy["trusted"]:
        reference = report["reference_mean_energy"]
        z = report["mean_energy_comparison"]["z"]
        print(
            f"  mean energy: {energy['mean']:.2f} ± {energy['sem']:.2f} kJ/mol   reference "
            f"{reference['mean']:.2f} ± {reference['sem']:.2f}"
            + ("" if z is None else f"   z = {z:+.2f}")
        )
    compared = [entry for entry in comparisons.values() if entry.get("within_2_sem") is not None]
    if compared:
        within = sum(bool(entry["within_2_sem"]) for entry in compared)
        print(
            f"{within} of {len(compared)} populations within 2 combined standard errors of "
            "the reference"
        )
    print(f"report: {Path(out) / 'report.json'}  plots: {', '.join(report['plots'].values())}")
    if args.max_z is not None:
        beyond = _populations_beyond(comparisons, args.max_z)
        if beyond:
            print(f"beyond {args.max_z:g} combined standard errors: {', '.join(beyond)}")
            return DISAGREEMENT_EXIT
    trusted = all(entry["trusted"] for entry in report["populations"].values())
    return 0 if trusted else PROBLEM_EXIT


def _populations_beyond(comparisons: dict[str, dict], max_z: float) -> list[str]:
    """Names of the given populations whose ``|z|`` against the reference exceeds
    ``max_z``, or that differ from it with no error on either side (``z`` null)."""
    return [
        name
        for name, entry in comparisons.items()
        if (
            abs(entry["z"]) > max_z
            if entry.get("z") is not None
            else entry.get("within_2_sem") is False
        )
    ]
