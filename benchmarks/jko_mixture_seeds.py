"""JKO-ICNN on the Gaussian mixtures: every seed's SymKL at t = 4 against the published mean.

Gathers the JKO-ICNN rows of ``python -m benchmarks.jko`` reports (``--json`` files) and the
``metrics.json`` of ``molgen jko`` runs (e.g. from ``benchmarks/jko_mixture_gpu.sh``), keeps
those with the given updates per step and cloud size, and writes one row per dimension:
the seeds' values, their mean ± standard deviation and standard error, and the published
large-scale WGF value (mean of 5 repeats, §4.2). With ``--mixture-key published`` it takes
the runs on the published experiments' own five mixtures (``benchmarks.jko --mixture-key
published``) and sets each beside the published value on the same mixture, with the mean
paired difference and its standard error.

    python -m benchmarks.jko_mixture_seeds --out benchmarks/results/jko_mixture_seeds.md
"""

from __future__ import annotations

import argparse
import math
import shlex
import statistics
from dataclasses import dataclass
from pathlib import Path

import yaml

from forcefields.atomic_files import write_text_atomic
from forcefields.errors import InputFileError
from forcefields.json_input import read_json_object
from molgen.jko.mixture_tables import PUBLISHED_MIXTURE_KEYS

PUBLISHED = {2: 0.062, 4: 0.176, 6: 0.301, 8: 0.396, 10: 0.329, 12: 0.509}
PUBLISHED_BY_MIXTURE = {
    2: (0.1028, 0.0144, 0.1193, 0.0558, 0.0152),
    4: (0.0979, 0.2459, 0.1445, 0.3021, 0.0871),
    6: (0.3620, 0.3424, 0.1709, 0.2225, 0.4082),
    8: (0.4058, 0.3852, 0.4157, 0.4357, 0.3387),
    10: (0.2967, 0.3522, 0.4104, 0.2885, 0.2971),
    12: (0.5881, 0.4525, 0.4886, 0.5986, 0.4151),
}
"""Dimension -> JKO-ICNN SymKL (kl_train + kl_target) on mixtures 0-4 of the published
experiments (PetrMokrov/Large-Scale-Wasserstein-Gradient-Flows,
``results/conv_comp_dim_D/conv_comp_dim_D-ICNN_jko-dim=D-n_exp=N.json``); their means are
:data:`PUBLISHED`."""
FINAL_TIME = "4"
RESULTS = Path("benchmarks/results")
DEFAULT_REPORTS = "jko_mixture_d*_it{iterations}_cloud{cloud}*.json"
DEFAULT_PUBLISHED_MIXTURE_REPORTS = "jko_published_mixture_d*_it{iterations}_*.json"
DEFAULT_RUNS = "jko_mixture_h100/d*_s*"


@dataclass
class SeedResult:
    """One mixture run: its dimension, seed, SymKL at t = 4, seconds, hardware and file, and
    the random key its mixture was drawn from ("": from the seed alone)."""

    dim: int
    seed: int
    symkl: float
    seconds: float
    hardware: str
    source: str
    mixture_key: str = ""


def from_benchmark_report(
    path: Path, iterations: int, cloud: int, mixture_key: str = ""
) -> list[SeedResult]:
    """The JKO-ICNN rows of a ``benchmarks.jko`` JSON report with these settings, on
    mixtures drawn from ``mixture_key``."""
    report = read_json_object(path)
    label = f"JKO-ICNN ({iterations} it/step, {cloud} particles, width 128x128)"
    hardware = report.get("hardware") or _threads_from_command(report["command"])
    return [
        SeedResult(
            row["dim"], row["seed"], row["symkl"], row["seconds"], hardware, str(path), mixture_key
        )
        for row in report["runs"]
        if row["preset"] == "mixture"
        and row["method"] == label
        and row.get("mixture_key", "") == mixture_key
    ]


def _threads_from_command(command: str) -> str:
    """``CPU, N torch threads`` from a report's ``OMP_NUM_THREADS=N python -m …`` command."""
    prefix = command.split()[0]
    if not prefix.startswith("OMP_NUM_THREADS="):
        raise InputFileError(f"report command {command!r}: no OMP_NUM_THREADS prefix")
    return f"CPU, {prefix.split('=')[1]} torch threads"


def from_run_folder(
    folder: Path, iterations: int, cloud: int, mixture_key: str = ""
) -> list[SeedResult]:
    """The run in a ``molgen jko`` output folder, if it is a finished mixture run with these
    settings on a mixture drawn from ``mixture_key`` (none otherwise)."""
    metrics_file = folder / "metrics.json"
    if not metrics_file.is_file():
        return []
    try:
        config = yaml.safe_load((folder / "config.yaml").read_text())
    except (OSError, yaml.YAMLError) as error:
        message = f"{folder / 'config.yaml'}: cannot read the run's config ({error})"
        raise InputFileError(message) from error
    flow = config["flow"]
    if config["preset"] != "mixture" or (flow["iterations"], flow["cloud_size"]) != (
        iterations,
        cloud,
    ):
        return []
    if config.get("problem", {}).get("mixture_key", "") != mixture_key:
        return []
    if not _default_network_and_schedule(config):
        return []
    metrics = read_json_object(metrics_file)
    hardware = metrics.get("hardware", config["device"])
    symkl = metrics["symkl"][FINAL_TIME]
    return [
        SeedResult(
            config["dim"],
            config["seed"],
            symkl,
            metrics["seconds"],
            hardware,
            str(folder),
            mixture_key,
        )
    ]


def _default_network_and_schedule(config: dict) -> bool:
    """Whether a run's config has the settings the benchmark reports are filtered on: an
    ICNN of width 128x128 and the default learning-rate schedule (annealed, one rate)."""
    flow = config["flow"]
    return (
        config.get("network", {}).get("hidden", [128, 128]) == [128, 128]
        and flow.get("anneal", True)
        and not flow.get("late_learning_rate", 0.0)
    )


def refuse_repeated_mixtures(results: list[SeedResult]) -> None:
    """Raise :class:`InputFileError` naming both files when one (dimension, seed, mixture
    key) appears twice: a repeat is not an independent mixture."""
    seen: dict[tuple[int, int, str], str] = {}
    for result in results:
        key = (result.dim, result.seed, result.mixture_key)
        if key in seen:
            raise InputFileError(
                f"dimension {result.dim}, seed {result.seed}: given twice ({seen[key]} and "
                f"{result.source}); each mixture counts once"
            )
        seen[key] = result.source


def summarise(results: list[SeedResult]) -> list[dict]:
    """One row per dimension: values by seed, mean, sd, standard error, published value.

    Raises:
        InputFileError: one mixture (dimension, seed, mixture key) given twice.
    """
    refuse_repeated_mixtures(results)
    rows = []
    for dim in sorted({result.dim for result in results}):
        group = sorted((r for r in results if r.dim == dim), key=lambda r: (r.hardware, r.seed))
        values = [result.symkl for result in group]
        sd = statistics.stdev(values) if len(values) > 1 else float("nan")
        rows.append(
            {
                "dim": dim,
                "seeds": [(result.seed, result.hardware, result.symkl) for result in group],
                "mean": statistics.mean(values),
                "sd": sd,
                "standard_error": sd / len(values) ** 0.5,
                "published": PUBLISHED.get(dim),
                **(_paired(dim, group) if _is_published(group[0].mixture_key, dim) else {}),
            }
        )
    return rows


def _is_published(key: str, dim: int) -> bool:
    """Whether mixtures drawn from ``key`` in ``dim`` are the published experiments' own."""
    return key in ("published", PUBLISHED_MIXTURE_KEYS.get(dim))


def _paired(dim: int, group: list[SeedResult]) -> dict:
    """Each run beside the published value on the same mixture, and the mean difference with
    its standard error (empty where the published experiments have no such mixture).

    Raises:
        InputFileError: two runs of one mixture (each mixture counts once).
    """
    seen: dict[int, str] = {}
    for result in group:
        if result.seed in seen:
            raise InputFileError(
                f"D = {dim}, mixture {result.seed}: two runs ({seen[result.seed]} and "
                f"{result.source}); pass --reports/--runs so that each mixture counts once"
            )
        seen[result.seed] = result.source
    published = PUBLISHED_BY_MIXTURE.get(dim, ())
    pairs = [(r.seed, r.symkl, published[r.seed]) for r in group if r.seed < len(published)]
    if not pairs:
        return {}
    differences = [ours - theirs for _, ours, theirs in pairs]
    sd = statistics.stdev(differences) if len(differences) > 1 else float("nan")
    return {
        "pairs": pairs,
        "paired_difference": statistics.mean(differences),
        "paired_standard_error": sd / len(differences) ** 0.5,
        "published_same_mixtures": statistics.mean(theirs for _, _, theirs in pairs),
    }


def _spread(value: float) -> str:
    """A standard deviation or error to three decimals; "n/a" for one run (NaN)."""
    return f"{value:.3f}" if math.isfinite(value) else "n/a"


def markdown(rows: list[dict], command: str) -> str:
    lines = [
        "# JKO-ICNN on the Gaussian mixtures, seed by seed",
        "",
        f"Command: `{command}`",
        "",
        "SymKL to the stationary mixture at t = 4; published: large-scale WGF, mean of 5.",
        "",
        "| D | runs | seed (hardware): SymKL | mean ± sd | standard error | published "
        "| mean − published |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        seeds = "; ".join(
            f"{seed} ({hardware}): {value:.3f}" for seed, hardware, value in row["seeds"]
        )
        published = row["published"]
        gap = f"{row['mean'] - published:+.3f}" if published is not None else "n/a"
        lines.append(
            f"| {row['dim']} | {len(row['seeds'])} | {seeds} | {row['mean']:.3f} ± "
            f"{_spread(row['sd'])} | {_spread(row['standard_error'])} | "
            f"{published if published is not None else 'n/a'} | {gap} |"
        )
    paired = [row for row in rows if "pairs" in row]
    if paired:
        lines += [
            "",
            "On the published experiments' own mixtures (their SymKL per mixture from their "
            "results files):",
            "",
            "| D | mixture | SymKL | published | difference |",
            "|---|---|---|---|---|",
        ]
        for row in paired:
            lines += [
                f"| {row['dim']} | {seed} | {ours:.3f} | {theirs:.3f} | {ours - theirs:+.3f} |"
                for seed, ours, theirs in row["pairs"]
            ]
        lines.append("")
        lines += [
            f"D = {row['dim']}: mean difference {row['paired_difference']:+.3f} ± "
            f"{_spread(row['paired_standard_error'])} (standard error) over {len(row['pairs'])} "
            f"mixtures; published mean on them {row['published_same_mixtures']:.3f}."
            for row in paired
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1000, help="updates per JKO step")
    parser.add_argument("--cloud-size", type=int, default=262144, help="particles")
    parser.add_argument(
        "--reports",
        nargs="*",
        type=Path,
        help=f"benchmarks.jko JSON reports (default: {RESULTS}/{DEFAULT_REPORTS})",
    )
    parser.add_argument(
        "--runs",
        nargs="*",
        type=Path,
        help=f"molgen jko run folders (default: {RESULTS}/{DEFAULT_RUNS})",
    )
    parser.add_argument(
        "--mixture-key",
        default="",
        help="take the runs on mixtures drawn from this key (benchmarks.jko --mixture-key; "
        "published: beside the published value on each same mixture)",
    )
    parser.add_argument("--out", required=True, help="markdown file to write")
    args = parser.parse_args(argv)
    reports_pattern = DEFAULT_PUBLISHED_MIXTURE_REPORTS if args.mixture_key else DEFAULT_REPORTS
    pattern = reports_pattern.format(iterations=args.iterations, cloud=args.cloud_size)
    reports = sorted(RESULTS.glob(pattern)) if args.reports is None else args.reports
    runs = sorted(RESULTS.glob(DEFAULT_RUNS)) if args.runs is None else args.runs
    results = [
        *(
            r
            for path in reports
            for r in from_benchmark_report(path, args.iterations, args.cloud_size, args.mixture_key)
        ),
        *(
            r
            for folder in runs
            for r in from_run_folder(folder, args.iterations, args.cloud_size, args.mixture_key)
        ),
    ]
    if not results:
        raise InputFileError("no mixture runs with these settings among the reports and runs")
    command = "python -m benchmarks.jko_mixture_seeds " + shlex.join(argv or [])
    table = markdown(summarise(results), command.strip())
    write_text_atomic(args.out, table)
    print(table)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
