"""JKO-ICNN against Euler-Maruyama on Ornstein-Uhlenbeck and Gaussian mixtures.

Runs both methods in one process on the same problems and writes a markdown table of
SymKL and seconds. JKO-ICNN's SymKL uses its exact density (pushed samples and inverted
maps); Euler-Maruyama's uses a Gaussian kernel density estimate (Scott's rule) of its
particles, as in the large-scale WGF experiments. Euler-Maruyama runs with growing particle
counts; rows within JKO-ICNN's wall-clock are marked.

    OMP_NUM_THREADS=1 python -m benchmarks.jko --dims 2 4 --out /tmp/jko_benchmark.md
"""

from __future__ import annotations

import argparse
import time as clock

import torch

from molgen.jko.baselines import euler_maruyama
from molgen.jko.config import config_from_dict
from molgen.jko.output import write_text
from molgen.jko.presets import build_problem
from molgen.jko.run import run_flow

SETTINGS = {
    "ou": {"flow": {"step_size": 0.05, "steps": 18}, "evaluation_samples": 10000},
    "mixture": {
        "flow": {"step_size": 0.1, "steps": 20},
        "network": {"kind": "dense", "hidden": [128, 128], "rank": 2},
        "evaluation_samples": 4000,
    },
}


def benchmark(preset: str, dim: int, args: argparse.Namespace) -> list[dict]:
    settings = SETTINGS[preset]
    data = {
        "preset": preset,
        "dim": dim,
        "seed": args.seed,
        "evaluation_samples": settings["evaluation_samples"],
        "network": settings.get("network", {}),
        "flow": {**settings["flow"], "iterations": args.iterations},
    }
    config = config_from_dict(data)
    torch.manual_seed(args.seed)
    problem = build_problem(config)
    result = run_flow(config, problem, progress=False)
    final_time = config.flow.steps * config.flow.step_size
    jko_metrics = result["metrics"][f"{final_time:.6g}"]
    rows = [
        {
            "method": f"JKO-ICNN ({args.iterations} it/step)",
            "symkl": jko_metrics["symkl"],
            "seconds": result["seconds"],
            "within_budget": True,
        }
    ]
    for particles in args.em_particles:
        start = clock.perf_counter()
        cloud = euler_maruyama(
            problem.drift_gradient,
            problem.initial.sample(particles),
            final_time,
            1e-3,
            problem.temperature,
        )
        seconds = clock.perf_counter() - start
        metrics = problem.evaluate_particles(cloud, final_time)
        rows.append(
            {
                "method": f"Euler-Maruyama ({particles} particles, dt 1e-3)",
                "symkl": metrics["symkl"],
                "seconds": seconds,
                "within_budget": seconds <= result["seconds"],
            }
        )
    for row in rows:
        row.update(preset=preset, dim=dim, time=final_time)
    return rows


def markdown(rows: list[dict], command: str) -> str:
    lines = [
        "# JKO-ICNN vs Euler-Maruyama",
        "",
        f"Command: `{command}`",
        "",
        "| problem | D | t | method | SymKL | seconds | within JKO wall-clock |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['preset']} | {row['dim']} | {row['time']:.3g} | {row['method']} | "
            f"{row['symkl']:.3e} | {row['seconds']:.1f} | "
            f"{'yes' if row['within_budget'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["ou", "mixture"], choices=sorted(SETTINGS))
    parser.add_argument("--dims", nargs="+", type=int, default=[2, 4])
    parser.add_argument("--iterations", type=int, default=200, help="JKO updates per step")
    parser.add_argument("--em-particles", nargs="+", type=int, default=[1000, 10000, 50000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="markdown file to write")
    args = parser.parse_args(argv)
    rows = []
    for preset in args.presets:
        for dim in args.dims:
            rows.extend(benchmark(preset, dim, args))
            print(f"done {preset} D={dim}", flush=True)
    command = "OMP_NUM_THREADS=1 python -m benchmarks.jko " + " ".join(argv or [])
    table = markdown(rows, command)
    write_text(args.out, table)
    print(table)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
