"""JKO-ICNN against Euler-Maruyama on Ornstein-Uhlenbeck and Gaussian mixtures.

Runs both methods in one process on the same problems and writes a markdown table of
SymKL and seconds, mean ± standard deviation over ``--seeds`` (each seed draws its own
problem, e.g. its own OU matrix). JKO-ICNN's SymKL uses its exact density (pushed samples
and inverted maps); Euler-Maruyama's uses a Gaussian kernel density estimate (Scott's rule)
of its particles, as in the large-scale WGF experiments. Euler-Maruyama runs with growing
particle counts (none with ``--em-particles`` and no value); rows within JKO-ICNN's
wall-clock are marked (``--skip-jko SECONDS`` runs only Euler-Maruyama against a budget
taken from an earlier JKO-ICNN run on the same seed, whose problem it redraws). Mixtures
are compared with their stationary law at t = 4 (40 steps of 0.1, as published);
``--mixture-key published`` runs on the published experiments' own mixtures (seeds 0-4).
``--json`` also writes every seed's numbers, including, for OU, the
SymKL of the Gaussian fitted to the JKO samples to the exact discrete-JKO recursion (O2).

    OMP_NUM_THREADS=1 python -m benchmarks.jko --dims 2 4 --out /tmp/jko_benchmark.md
    OMP_NUM_THREADS=1 python -m benchmarks.jko --presets mixture --dims 2 --seeds 0 1 \
        --out benchmarks/results/jko_mixture_d2.md --json benchmarks/results/jko_mixture_d2.json
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import time as clock

from benchmarks.rerun_command import rerun_command
from forcefields.atomic_files import write_json_atomic, write_text_atomic
from forcefields.devices import finish_device_work
from molgen.jko.baselines import euler_maruyama
from molgen.jko.config import FlowConfig, JKOConfig, JKOConfigError, config_from_dict
from molgen.jko.metrics import fitted_gaussian_symkl_expected
from molgen.jko.presets import Problem
from molgen.jko.run import hardware_name, run_flow, seeded_problem

SETTINGS = {
    # Every step's map is fitted on one fixed cloud and inherits its sampling error; 262144
    # particles keep it well below the 10^4-sample evaluation's in D <= 12 (README, JKO-ICNN).
    "ou": {
        "flow": {"step_size": 0.05, "steps": 18, "iterations": 200, "cloud_size": 262144},
        "evaluation_samples": 10000,
    },
    # Large-scale WGF §4.2: K = 40 steps of h = 0.1, SymKL to the stationary mixture at t = 4.
    # 100 updates per step keep D = 4 under 14 min; D = 2 needs --iterations 200 to reach the
    # published SymKL; 262144 particles as for OU (configs/jko/mixture.yaml).
    "mixture": {
        "flow": {"step_size": 0.1, "steps": 40, "iterations": 100, "cloud_size": 262144},
        "network": {"kind": "dense", "hidden": [128, 128], "rank": 2},
        "evaluation_samples": 4000,
    },
}


def benchmark_config(preset: str, dim: int, seed: int, args: argparse.Namespace) -> JKOConfig:
    """The run configuration of one seed of ``preset`` in ``dim`` with the command's options."""
    settings = SETTINGS[preset]
    data = {
        "preset": preset,
        "dim": dim,
        "seed": seed,
        "device": args.device,
        "evaluation_samples": settings["evaluation_samples"],
        **(
            {"problem": {"mixture_key": args.mixture_key}}
            if args.mixture_key and preset == "mixture"
            else {}
        ),
        "network": {
            **settings.get("network", {}),
            **({"hidden": args.hidden} if args.hidden else {}),
        },
        "flow": {
            **settings["flow"],
            **({"iterations": args.iterations} if args.iterations else {}),
            **({"cloud_size": args.cloud_size} if args.cloud_size else {}),
            **(
                {
                    "late_learning_rate": args.late_learning_rate,
                    "late_from_step": args.late_from_step,
                }
                if args.late_learning_rate
                else {}
            ),
            **({"anneal": False} if args.no_anneal else {}),
        },
    }
    return config_from_dict(data)


def benchmark(preset: str, dim: int, seed: int, args: argparse.Namespace) -> list[dict]:
    """One seed of ``preset`` in ``dim``: the JKO-ICNN row (unless ``--skip-jko``), then one
    row per EM particle count."""
    config = benchmark_config(preset, dim, seed, args)
    with seeded_problem(config) as problem:
        rows = _method_rows(config, problem, args)
    for row in rows:
        row.update(preset=preset, dim=dim, seed=seed)
        if config.problem.mixture_key:
            row["mixture_key"] = config.problem.mixture_key
    return rows


def _schedule_label(flow: FlowConfig) -> str:
    """The learning-rate schedule where it differs from the default (cosine-annealed 5e-3)."""
    label = "" if flow.anneal else ", constant within steps"
    if flow.late_learning_rate:
        label = (
            f", lr {flow.learning_rate:g} then {flow.late_learning_rate:g} "
            f"from step {flow.late_from_step}{label}"
        )
    return label


def _method_rows(config: JKOConfig, problem: Problem, args: argparse.Namespace) -> list[dict]:
    """The JKO-ICNN row (unless ``--skip-jko``), then one row per EM particle count, each
    with its final ``time``."""
    final_time = config.flow.steps * config.flow.step_size
    rows = []
    budget = args.skip_jko
    if budget is None:
        result = run_flow(config, problem, progress=False)
        flow = config.flow
        budget = result["seconds"]
        rows.append(
            {
                "method": f"JKO-ICNN ({flow.iterations} it/step, {flow.cloud_size} particles, "
                f"width {'x'.join(map(str, config.network.hidden))}{_schedule_label(flow)})",
                "seconds": result["seconds"],
                "within_budget": True,
                "evaluation_samples": config.evaluation_samples,
                **result["metrics"][f"{final_time:.6g}"],
            }
        )
    for particles in args.em_particles:
        initial = problem.initial.sample(particles)
        finish_device_work(config.device)
        start = clock.perf_counter()
        cloud = euler_maruyama(
            problem.drift_gradient,
            initial,
            final_time,
            1e-3,
            problem.temperature,
        )
        finish_device_work(config.device)
        seconds = clock.perf_counter() - start
        metrics = problem.evaluate_particles(cloud, final_time)
        rows.append(
            {
                "method": f"Euler-Maruyama ({particles} particles, dt 1e-3)",
                "symkl": metrics["symkl"],
                "seconds": seconds,
                "within_budget": seconds <= budget,
            }
        )
    for row in rows:
        row["time"] = final_time
    return rows


def summarise(rows: list[dict]) -> list[dict]:
    """Mean and standard deviation over seeds of each (preset, dim, method); the standard
    deviation of one seed is NaN (written as n/a, and as null in the JSON)."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["preset"], row["dim"], row["method"]), []).append(row)
    summary = []
    for (preset, dim, method), group in groups.items():
        symkl = [row["symkl"] for row in group]
        seconds = [row["seconds"] for row in group]
        summary.append(
            {
                "preset": preset,
                "dim": dim,
                "time": group[0]["time"],
                "method": method,
                "seeds": len(group),
                "symkl_mean": statistics.mean(symkl),
                "symkl_sd": _sample_sd(symkl),
                "seconds_mean": statistics.mean(seconds),
                "within_budget": all(row["within_budget"] for row in group),
                **discrete_jko_agreement(group),
            }
        )
    return summary


def _sample_sd(values: list[float]) -> float:
    """The sample standard deviation of ``values`` over seeds; NaN (unknown) for one seed."""
    return statistics.stdev(values) if len(values) > 1 else math.nan


def _sd_text(value: float) -> str:
    """A standard deviation as in the tables (``1.2e-03``); "n/a" for one seed (NaN)."""
    return f"{value:.1e}" if math.isfinite(value) else "n/a"


def discrete_jko_agreement(group: list[dict]) -> dict:
    """How far the Gaussians fitted to the seeds' samples lie from the exact discrete JKO law.

    Compares the mean over seeds of ``symkl_to_discrete_jko`` with what sampling alone
    gives (:func:`~molgen.jko.metrics.fitted_gaussian_symkl_expected`) and returns the
    excess in standard errors of that mean; empty for rows without the O2 oracle.
    """
    if "symkl_to_discrete_jko" not in group[0]:
        return {}
    distances = [row["symkl_to_discrete_jko"] for row in group]
    floor, spread = fitted_gaussian_symkl_expected(group[0]["dim"], group[0]["evaluation_samples"])
    mean = statistics.mean(distances)
    return {
        "o2_symkl_mean": mean,
        "o2_symkl_sd": _sample_sd(distances),
        "o2_sampling_only": floor,
        "o2_excess_standard_errors": (mean - floor) / (spread / len(distances) ** 0.5),
    }


def markdown(summary: list[dict], command: str, hardware: str) -> str:
    lines = [
        "# JKO-ICNN vs Euler-Maruyama",
        "",
        f"Command: `{command}`",
        "",
        f"Hardware: {hardware}",
        "",
        "| problem | D | t | method | seeds | SymKL (mean ± sd) | seconds (mean) "
        "| within JKO wall-clock |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in summary:
        lines.append(
            f"| {row['preset']} | {row['dim']} | {row['time']:.3g} | {row['method']} | "
            f"{row['seeds']} | {row['symkl_mean']:.2e} ± {_sd_text(row['symkl_sd'])} | "
            f"{row['seconds_mean']:.1f} | {'yes' if row['within_budget'] else 'no'} |"
        )
    o2_rows = [row for row in summary if "o2_symkl_mean" in row]
    if o2_rows:
        lines += [
            "",
            "Gaussian fitted to the JKO samples against the exact discrete JKO law (O2): "
            "SymKL, and what sampling alone gives (k/n, k fitted parameters, n samples).",
            "",
            "| problem | D | method | seeds | SymKL to O2 (mean ± sd) | sampling alone "
            "| excess (standard errors) |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in o2_rows:
            lines.append(
                f"| {row['preset']} | {row['dim']} | {row['method']} | {row['seeds']} | "
                f"{row['o2_symkl_mean']:.2e} ± {_sd_text(row['o2_symkl_sd'])} | "
                f"{row['o2_sampling_only']:.2e} | {row['o2_excess_standard_errors']:+.1f} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["ou", "mixture"], choices=sorted(SETTINGS))
    parser.add_argument("--dims", nargs="+", type=int, default=[2, 4])
    parser.add_argument(
        "--iterations", type=int, help="JKO updates per step (default: per preset, see SETTINGS)"
    )
    parser.add_argument(
        "--cloud-size", type=int, help="JKO particle cloud (default: per preset, see SETTINGS)"
    )
    parser.add_argument(
        "--hidden", nargs="+", type=int, help="ICNN hidden widths (default: per preset)"
    )
    parser.add_argument(
        "--late-learning-rate",
        type=float,
        help="JKO Adam learning rate from --late-from-step on (large-scale WGF mixtures: 2e-3 "
        "from step 21, after 5e-3)",
    )
    parser.add_argument("--late-from-step", type=int, default=21, help="first late step (from 1)")
    parser.add_argument(
        "--no-anneal",
        action="store_true",
        help="constant learning rate within each JKO step instead of the cosine decay to zero",
    )
    parser.add_argument(
        "--mixture-key",
        default="",
        help="draw the mixtures from this random key as the large-scale WGF experiments did "
        "(published: their key for each D, so seeds 0-4 are their five mixtures)",
    )
    parser.add_argument("--em-particles", nargs="*", type=int, default=[1000, 10000, 50000])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:i] (both methods)")
    parser.add_argument(
        "--skip-jko",
        type=float,
        metavar="SECONDS",
        help="run only Euler-Maruyama, marking rows within this wall-clock budget "
        "(e.g. the JKO-ICNN seconds of an earlier run on the same problem)",
    )
    parser.add_argument("--out", required=True, help="markdown file to write")
    parser.add_argument("--json", help="also write every seed's numbers and the summary here")
    args = parser.parse_args(argv)
    cases = list(itertools.product(args.presets, args.dims, args.seeds))
    for preset, dim, seed in cases:
        try:
            benchmark_config(preset, dim, seed, args)
        except JKOConfigError as error:
            parser.error(f"{preset}, D = {dim}, seed {seed}: {error}")
    rows = []
    for preset, dim, seed in cases:
        rows.extend(benchmark(preset, dim, seed, args))
        print(f"done {preset} D={dim} seed={seed}", flush=True)
    command = rerun_command("benchmarks.jko", argv)
    summary = summarise(rows)
    hardware = hardware_name(args.device)
    table = markdown(summary, command, hardware)
    write_text_atomic(args.out, table)
    if args.json:
        write_json_atomic(
            args.json, {"command": command, "hardware": hardware, "summary": summary, "runs": rows}
        )
    print(table)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
