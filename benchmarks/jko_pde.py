"""JKO-ICNN on the nonlinear PDE presets over several seeds: porous medium and aggregation.

Runs ``configs/jko/porous.yaml`` (∂ₜρ = Δρ², d = 1, from the Barenblatt profile; ∫ρ² against
the Barenblatt value at every evaluation time) and ``configs/jko/aggregation.yaml``
(interaction energy against the steady state's 3/8 + log(2)/4) once per seed, each into its
own ``molgen jko`` folder, and writes a markdown table: per seed the largest relative error
over the evaluation times and the error at the last one; then the mean and the worst seed.

    OMP_NUM_THREADS=1 python -m benchmarks.jko_pde --seeds 0 1 2 3 4 --runs runs/jko_pde \
        --out benchmarks/results/jko_pde.md
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from benchmarks.markdown_report import publish_report
from benchmarks.rerun_command import rerun_command
from molgen.jko.config import config_from_dict, read_config_file
from molgen.jko.run import run_experiment

CONFIGS = {
    "porous": (Path("configs/jko/porous.yaml"), "energy_relative_error", "∫ρ² vs Barenblatt"),
    "aggregation": (
        Path("configs/jko/aggregation.yaml"),
        "relative_error",
        "interaction energy vs steady state",
    ),
}
PUBLISHED_TARGET = {"porous": 0.05, "aggregation": 0.02}
"""Issue targets: ∫ρ² within 5 % of Barenblatt over the run; steady interaction energy
within 2 % of 0.5483."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", choices=sorted(CONFIGS), default=sorted(CONFIGS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--runs", type=Path, required=True, help="folder for the runs")
    parser.add_argument("--out", type=Path, required=True, help="markdown report")
    return parser


def _errors(preset: str, seed: int, runs: Path) -> tuple[list[float], float]:
    """Relative errors by evaluation time and training seconds of one seed's run (resumed
    or reused when its folder already holds it)."""
    path, key, _ = CONFIGS[preset]
    config = config_from_dict({**read_config_file(path), "seed": seed})
    out = runs / f"{preset}_s{seed}"
    finished = (out / "metrics.json").is_file()
    summary = run_experiment(config, out, progress=False, resume=finished)
    times = sorted(summary["metrics"], key=float)
    return [summary["metrics"][time][key] for time in times], summary["seconds"]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    lines = [f"`{rerun_command('benchmarks.jko_pde', argv)}`", ""]
    for preset in args.presets:
        _, _, label = CONFIGS[preset]
        lines += [
            f"### {preset}: {label} (target {PUBLISHED_TARGET[preset]:.0%})",
            "",
            "| seed | largest absolute relative error over the run | at the last time | seconds |",
            "|---|---|---|---|",
        ]
        worst = []
        for seed in args.seeds:
            errors, seconds = _errors(preset, seed, args.runs)
            largest = max(abs(error) for error in errors)
            worst.append(largest)
            lines.append(f"| {seed} | {largest:.2%} | {errors[-1]:+.2%} | {seconds:.0f} |")
        lines += [
            "",
            f"Largest error over the run: mean {statistics.mean(worst):.2%} over "
            f"{len(worst)} seeds, worst seed {max(worst):.2%}.",
            "",
        ]
    publish_report(args.out, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
