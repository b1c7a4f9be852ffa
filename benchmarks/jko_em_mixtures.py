"""JKO-ICNN against Euler–Maruyama on the same Gaussian mixtures, at JKO-ICNN's wall-clock.

Joins, mixture by mixture (dimension and seed), the JKO-ICNN rows of ``benchmarks.jko``
reports with Euler–Maruyama runs of ``benchmarks.jko --skip-jko SECONDS`` on the same
problem. Euler–Maruyama's SymKL is that of its particles' Gaussian kernel density
(Scott's bandwidth, KL(kde‖target) on draws from the KDE, as in the published large-scale
WGF protocol). A mixture counts for JKO-ICNN when its SymKL is below that of every
Euler–Maruyama run that finished within JKO-ICNN's seconds. ``--mixture-key`` joins the
runs on mixtures drawn from that key (``benchmarks.jko --mixture-key``, e.g. the published
experiments' own mixtures) instead of those drawn from the seed alone.

    python -m benchmarks.jko_em_mixtures --out benchmarks/results/jko_em_mixtures.md
"""

from __future__ import annotations

import argparse
import shlex
from dataclasses import dataclass
from pathlib import Path

from benchmarks.jko_mixture_seeds import (
    RESULTS,
    SeedResult,
    from_benchmark_report,
    refuse_repeated_mixtures,
)
from cli.arguments import positive_int
from forcefields.atomic_files import write_text_atomic
from forcefields.errors import InputFileError
from forcefields.json_input import read_json_object

PUBLISHED_SETTINGS = (1000, 262144)
"""Updates per JKO step (as published) and cloud size of the JKO-ICNN runs compared."""
JKO_SETTINGS = {2: (200, 262144), 4: (200, 262144), 6: (200, 262144)}
"""Dimensions whose JKO-ICNN runs used other settings (200 updates per step on the CPU)."""
DEFAULT_JKO_REPORTS = "jko_mixture_d*_cloud262144*.json"
DEFAULT_EM_RUNS = "em_mixture_kde_draws/*.json"
DEFAULT_KEYED_JKO_REPORTS = "jko_published_mixture_d*.json"
DEFAULT_KEYED_EM_RUNS = "em_published_mixture/*.json"
"""Defaults with ``--mixture-key``."""


@dataclass
class ParticleRun:
    """One Euler–Maruyama run: mixture, particle count, SymKL at t = 4, seconds."""

    dim: int
    seed: int
    particles: int
    symkl: float
    seconds: float


def euler_maruyama_runs(path: Path, mixture_key: str = "") -> list[ParticleRun]:
    """The Euler–Maruyama rows of a ``benchmarks.jko --skip-jko`` JSON report, on mixtures
    drawn from ``mixture_key``."""
    report = read_json_object(path)
    runs = []
    for row in report["runs"]:
        if row["preset"] != "mixture" or not row["method"].startswith("Euler-Maruyama ("):
            continue
        if row.get("mixture_key", "") != mixture_key:
            continue
        particles = int(row["method"].removeprefix("Euler-Maruyama (").split()[0])
        runs.append(ParticleRun(row["dim"], row["seed"], particles, row["symkl"], row["seconds"]))
    return runs


def jko_runs(
    paths: list[Path],
    settings: dict[int, tuple[int, int]] | None = None,
    mixture_key: str = "",
    every_dimension: tuple[int, int] | None = None,
) -> dict[tuple[int, int], SeedResult]:
    """JKO-ICNN result by (dimension, seed), with the settings of :data:`JKO_SETTINGS`
    (``settings``: other (updates, cloud) by dimension; ``every_dimension``: these in every
    dimension instead), on mixtures drawn from ``mixture_key``.

    Raises:
        InputFileError: one mixture (dimension, seed) has two such runs (in one report or
            two): which to compare would be a silent choice.
    """
    settings = {} if every_dimension else {**JKO_SETTINGS, **(settings or {})}
    default = every_dimension or PUBLISHED_SETTINGS
    found = [
        result
        for path in paths
        for iterations, cloud in {*settings.values(), default}
        for result in from_benchmark_report(path, iterations, cloud, mixture_key)
        if settings.get(result.dim, default) == (iterations, cloud)
    ]
    refuse_repeated_mixtures(found)
    return {(result.dim, result.seed): result for result in found}


def compare(jko: dict[tuple[int, int], SeedResult], particles: list[ParticleRun]) -> list[dict]:
    """One row per mixture with both methods: JKO-ICNN, Euler–Maruyama by particle count,
    the best Euler–Maruyama within JKO-ICNN's seconds and whether JKO-ICNN is below it."""
    rows = []
    for key in sorted(jko):
        runs = sorted((r for r in particles if (r.dim, r.seed) == key), key=lambda r: r.particles)
        if not runs:
            continue
        result = jko[key]
        within = [r for r in runs if r.seconds <= result.seconds]
        best = min(within, key=lambda r: r.symkl) if within else None
        rows.append(
            {
                "dim": key[0],
                "seed": key[1],
                "jko": result,
                "euler_maruyama": runs,
                "best_within": best,
                "jko_lower": best is not None and result.symkl < best.symkl,
            }
        )
    return rows


def markdown(rows: list[dict], command: str) -> str:
    lines = [
        "# JKO-ICNN against Euler–Maruyama on the same mixtures",
        "",
        f"Command: `{command}`",
        "",
        "SymKL to the stationary mixture at t = 4 (seconds). Euler–Maruyama: Gaussian KDE of "
        "its particles (Scott), KL(kde‖target) on draws from the KDE.",
        "",
        "| D | seed | JKO-ICNN | Euler–Maruyama by particles | best within JKO's time "
        "| JKO-ICNN lower |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        jko = row["jko"]
        runs = "; ".join(
            f"{r.particles:.0e}: {r.symkl:.3f} ({r.seconds:.0f} s)" for r in row["euler_maruyama"]
        )
        best = row["best_within"]
        best_text = f"{best.symkl:.3f} ({best.particles:.0e})" if best else "none in time"
        lines.append(
            f"| {row['dim']} | {row['seed']} | {jko.symkl:.3f} ({jko.seconds:.0f} s) | {runs} "
            f"| {best_text} | {'yes' if row['jko_lower'] else 'no'} |"
        )
    wins = sum(row["jko_lower"] for row in rows)
    lines += ["", f"JKO-ICNN lower on {wins} of {len(rows)} mixtures."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--jko-reports",
        nargs="*",
        type=Path,
        help=f"benchmarks.jko JSON reports (default: {RESULTS}/{DEFAULT_JKO_REPORTS}, "
        f"with --mixture-key {RESULTS}/{DEFAULT_KEYED_JKO_REPORTS})",
    )
    parser.add_argument(
        "--em-reports",
        nargs="*",
        type=Path,
        help=f"benchmarks.jko --skip-jko JSON reports (default: {RESULTS}/{DEFAULT_EM_RUNS}, "
        f"with --mixture-key {RESULTS}/{DEFAULT_KEYED_EM_RUNS})",
    )
    parser.add_argument(
        "--published-updates",
        nargs="*",
        type=positive_int,
        default=[],
        metavar="D",
        help="dimensions whose JKO-ICNN runs to take with the published 1000 updates per "
        f"step instead of {JKO_SETTINGS[2][0]} (D = 2, 4, 6)",
    )
    parser.add_argument(
        "--updates",
        type=positive_int,
        help="updates per step of the JKO-ICNN runs in every dimension (overrides the above)",
    )
    parser.add_argument(
        "--mixture-key",
        default="",
        help="join the runs on mixtures drawn from this key (benchmarks.jko --mixture-key)",
    )
    parser.add_argument("--out", required=True, help="markdown file to write")
    args = parser.parse_args(argv)
    keyed = bool(args.mixture_key)
    jko_glob = DEFAULT_KEYED_JKO_REPORTS if keyed else DEFAULT_JKO_REPORTS
    em_glob = DEFAULT_KEYED_EM_RUNS if keyed else DEFAULT_EM_RUNS
    jko_paths = args.jko_reports or sorted(RESULTS.glob(jko_glob))
    em_paths = args.em_reports or sorted(RESULTS.glob(em_glob))
    particles = [run for path in em_paths for run in euler_maruyama_runs(path, args.mixture_key)]
    settings = dict.fromkeys(args.published_updates, PUBLISHED_SETTINGS)
    every_dimension = (args.updates, PUBLISHED_SETTINGS[1]) if args.updates else None
    rows = compare(jko_runs(jko_paths, settings, args.mixture_key, every_dimension), particles)
    if not rows:
        raise InputFileError("no mixture has both a JKO-ICNN and an Euler–Maruyama run")
    command = "python -m benchmarks.jko_em_mixtures " + shlex.join(argv or [])
    table = markdown(rows, command.strip())
    write_text_atomic(args.out, table)
    print(table)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
