"""Euler-Maruyama particles on the JKO butane problem: the Fokker-Planck law JKO-ICNN targets.

Runs only the particle baseline of a ``molgen jko`` butane config (same potential
V = βU, clipped CHARMM energy plus the rigid alignment penalty, same start, unit diffusion
per Cartesian coordinate, time in nm²) to the config's evaluation times, and writes the
C-C-C-C dihedral mode populations (binomial standard errors) and the exact energy at each
time to ``OUT.json`` (rewritten after every evaluation time, so a killed run keeps what it
reached) and ``OUT.md``. ``--jko METRICS`` adds the populations and mean energy of a
``molgen jko`` run directory's ``metrics.json`` next to them; ``--reference DIR`` (a
``molgen reference butane`` folder) adds the parallel-tempering populations.

The C-H bonds make the drift stiff (largest Hessian eigenvalue of V about 2 × 10⁵ nm⁻²):
Euler-Maruyama is unstable above dt ≈ 1e-5, and one step of 1000 particles takes about
7 ms on one core, so t = 4 with dt = 5e-6 is 800,000 steps.

    OMP_NUM_THREADS=1 python -m benchmarks.jko_butane_em --reference REF \
        --particles 500 --time-step 5e-6 --out benchmarks/results/jko_butane_em_p500_dt5e-6
    # a short horizon (one JKO step, t = 0.2) to compare time steps:
    OMP_NUM_THREADS=1 python -m benchmarks.jko_butane_em --steps 1 --time-step 2.5e-6 --out ...
"""

from __future__ import annotations

import argparse
import json
import os
import time as clock
from typing import Any

import torch

from benchmarks.rerun_command import rerun_command
from forcefields.atomic_files import write_json_atomic, write_text_atomic
from molgen.jko.config import JKOConfig, config_from_dict, config_to_dict, load_config
from molgen.jko.presets import Problem
from molgen.jko.run import run_baseline, seeded_problem

MODES = ("gauche+", "trans", "gauche-")


def markdown(result: dict[str, Any]) -> str:
    """Table of populations ± sem and energies by time (JKO and reference when present)."""
    config = result["config"]
    jko = result.get("jko_metrics", {})
    lines = [
        "# Euler-Maruyama on the JKO butane problem",
        "",
        f"Command: `{result['command']}`",
        "",
        f"{config['baseline']['particles']} particles, dt = {config['baseline']['time_step']:g}, "
        f"seed {config['seed']}, {result['seconds']:.0f} s of simulation "
        f"(load average {result['load_start'][0]:.2f} at start, "
        f"{result.get('load_end', result['load_start'])[0]:.2f} at end).",
        "",
        "| t | EM gauche+ | EM trans | EM gauche- | EM energy mean / median (kJ/mol) "
        "| JKO gauche+ / trans / gauche- | JKO energy mean | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    reference = None
    for time, metrics in result["metrics"].items():
        populations, sem = metrics["populations"], metrics["population_sem"]
        cells = [f"{populations[mode]:.4f} ± {sem[mode]:.4f}" for mode in MODES]
        other = jko.get(time)
        jko_cells = (
            [
                " / ".join(f"{other['populations'][mode]:.4f}" for mode in MODES),
                f"{other['energy_mean']:.2f}",
            ]
            if other
            else ["", ""]
        )
        lines.append(
            f"| {time} | {' | '.join(cells)} | {metrics['energy_mean']:.2f} / "
            f"{metrics['energy_median']:.2f} | {' | '.join(jko_cells)} | "
            f"{result['seconds_by_time'][time]:.0f} |"
        )
        if "reference_populations" in metrics:
            reference = metrics
    if reference is not None:
        values = " / ".join(
            f"{reference['reference_populations'][mode]:.3f} ± "
            f"{reference['reference_population_sem'][mode]:.3f}"
            for mode in MODES
        )
        energy = reference.get("reference_energy_mean")
        lines += [
            "",
            f"Reference (`{config['problem']['reference']}`), gauche+ / trans / gauche-: {values}"
            + (f"; mean energy {energy:.2f} kJ/mol." if energy is not None else "."),
        ]
    return "\n".join(lines) + "\n"


def _simulate(
    config: JKOConfig, problem: Problem, command: str, args: argparse.Namespace
) -> dict[str, Any]:
    """Runs the baseline, rewriting ``OUT.json`` after every evaluation time; returns it."""
    result: dict[str, Any] = {
        "command": command,
        "config": config_to_dict(config),
        "torch_threads": torch.get_num_threads(),
        "load_start": list(os.getloadavg()),
        "metrics": {},
        "seconds_by_time": {},
        "seconds": 0.0,
    }
    if args.jko:
        with open(args.jko) as handle:
            result["jko_metrics"] = json.load(handle)["metrics"]
    wall = clock.perf_counter()

    def save(time: str, metrics: dict[str, Any], seconds: float) -> None:
        result["metrics"][time] = metrics
        result["seconds_by_time"][time] = seconds
        result["seconds"] = seconds
        result["wall_seconds"] = clock.perf_counter() - wall
        result["load_now"] = list(os.getloadavg())
        write_json_atomic(f"{args.out}.json", result)
        populations = metrics["populations"]
        print(
            f"t = {time}: "
            + ", ".join(f"{mode} {populations[mode]:.4f}" for mode in MODES)
            + f", energy {metrics['energy_mean']:.2f} kJ/mol, {seconds:.0f} s",
            flush=True,
        )

    baseline = run_baseline(config, problem, on_evaluation=save)
    result["seconds"] = baseline["seconds"]
    result["wall_seconds"] = clock.perf_counter() - wall
    result["load_end"] = list(os.getloadavg())
    write_json_atomic(f"{args.out}.json", result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/jko/butane.yaml")
    parser.add_argument("--reference", help="molgen reference butane folder (stats.json)")
    parser.add_argument("--particles", type=int, default=500)
    parser.add_argument("--time-step", type=float, default=5e-6, help="EM dt (nm²)")
    parser.add_argument(
        "--steps",
        type=int,
        help="JKO steps of flow.step_size to cover (default: the config's flow.steps); "
        "evaluated every evaluate_every steps and at the end",
    )
    parser.add_argument("--seed", type=int, help="default: the config's seed")
    parser.add_argument("--jko", help="metrics.json of a molgen jko run to tabulate beside EM")
    parser.add_argument("--out", required=True, help="output prefix: writes OUT.json and OUT.md")
    args = parser.parse_args(argv)

    data = config_to_dict(load_config(args.config))
    data["baseline"] = {"particles": args.particles, "time_step": args.time_step}
    if args.steps is not None:
        data["flow"]["steps"] = args.steps
    if args.seed is not None:
        data["seed"] = args.seed
    if args.reference:
        data["problem"]["reference"] = args.reference
    config = config_from_dict(data)
    command = rerun_command("benchmarks.jko_butane_em", argv)
    with seeded_problem(config) as problem:
        result = _simulate(config, problem, command, args)
    table = markdown(result)
    write_text_atomic(f"{args.out}.md", table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
