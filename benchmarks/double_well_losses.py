"""Double-well loss comparison: one short pre-training, then one data-free fine-tune per loss.

Reproduces the comparison of thesis §4.4, §6 and §7 with the real trainer. The presets
``configs/double_well/<well>_<loss>.yaml`` share their ``kl_z_dd`` pre-training phase, which
is trained once; every fine-tune branches from its end (``molgen.training.branch_run``).

Per well, ``<out>/<variant>/`` receives the runs (checkpoints, metrics.jsonl) and:

* ``report.md``: per loss, the minor-mode fraction at the start (= end of pre-training),
  end, minimum and maximum of the fine-tune, the largest deviation from the quadrature
  value, whether it stayed within ``--tolerance`` throughout, the final Kish ESS, the
  reverse KL(p_G‖p_B) at the start and end and the seconds per fine-tune; then, for the
  pre-trained and every fine-tuned flow, its reverse KL and the drive of ``kl_x`` and
  ``l2_plus`` on the minor mode (:mod:`molgen.losses.drive`), whose sign
  predicts which way a fine-tune from that flow moves the fraction;
* ``summary.json``: the same numbers (drives under ``drives``), the settings and the
  command;
* ``minor_fraction.png``: minor-mode fraction versus iteration for every loss (thesis Fig 7
  top), quadrature value and tolerance band in orange;
* ``reverse_kl.png``: KL(p_G‖p_B) versus iteration (from each evaluation's mean
  log-ratio and the quadrature ``log Z_B``), with the value of an exact flow that has only
  the major mode, ``-log(1 - reference)``;
* ``x0_histogram.png``: x0 histogram of the pre-trained and each fine-tuned flow against
  the quadrature density (thesis Fig 7 bottom centre);
* ``energy_scatter.png``: βU_B against U_G of generated samples per flow (thesis Fig 12).

``<variant>`` is the well's name, suffixed ``_t<F>`` for ``--temperature-factor F`` and
``_standardized`` for ``--standardize``. ``--results DIR`` copies the four PNGs, the report
and the summary to ``DIR/<variant>/`` (without the bulky runs).

Runtime on the shared 2-core machine (one thread): about 1.5 min for the pre-training and
0.5–1 min per fine-tune with the defaults (most of it is the 16384-sample evaluations).

    OMP_NUM_THREADS=1 nice -n 10 python -m benchmarks.double_well_losses --wells wide \\
        --out runs/double_well --results benchmarks/results/double_well
"""

from __future__ import annotations

import argparse
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.integrate import trapezoid

import systems
from benchmarks.rerun_command import rerun_command
from forcefields.atomic_files import atomic_path, write_json_atomic, write_text_atomic
from molgen.flows import Flow
from molgen.losses.drive import mode_drives
from molgen.plots.comparison import (
    plot_energy_scatter_panels,
    plot_fraction_traces,
    plot_marginal_panels,
)
from molgen.training import MetricsLog, ReducedEnergy, branch_run, load_config, train
from molgen.training.config import TrainConfig
from systems.double_well import DoubleWell, bimodal_energy, minor_mode_fraction
from systems.registry import System

__all__ = [
    "WellRun",
    "drive_table",
    "flow_drives",
    "finetune_summary",
    "finetune_table",
    "main",
    "run_well",
    "write_outputs",
    "x0_density",
]

PRESETS = Path(__file__).resolve().parent.parent / "configs" / "double_well"
WELLS = ("wide", "medium", "narrow")
LOSSES = ("kl_x", "kl_z_df", "pl2_gb", "pl2_cb", "l2_plus", "mixture")
PRETRAIN = "pretrain"
FINETUNE = "finetune"
OUTPUTS = (
    "report.md",
    "summary.json",
    "minor_fraction.png",
    "reverse_kl.png",
    "x0_histogram.png",
    "energy_scatter.png",
)
FRACTION_LABEL = "minor-mode fraction\n(bands: ±1 binomial s.e., raw samples)"
"""y label of ``minor_fraction.png``, on two lines so that it fits the axes' height."""
PLOT_SAMPLES = 8192
SCATTER_POINTS = 1000
"""The first samples of each flow drawn in its scatter panel (the histograms use all)."""
X0_GRID = np.linspace(-3.0, 3.0, 601)
"""x0 range of the histograms: beyond |x0| = 3 the quartic puts the density below e^-20
of its peak even at temperature x2 (beta = 0.5)."""


@dataclass
class WellRun:
    """Everything one well's benchmark produced.

    Attributes:
        records: ``{loss: metric records}`` (pre-training records included).
        flows: ``{label: flow}``, the pre-trained flow first, then each fine-tuned one.
        seconds: ``{loss: wall-clock seconds of its fine-tune}`` (evaluations included).
    """

    records: dict[str, list[dict]]
    flows: dict[str, Flow]
    seconds: dict[str, float]


def _preset(well: str, loss: str, args: argparse.Namespace) -> TrainConfig:
    config = load_config(PRESETS / f"{well}_{loss}.yaml")
    config.seed = args.seed
    config.flow.standardize = config.flow.standardize or args.standardize
    pretrain, finetune = config.phases
    for option, phase in ((args.pretrain_steps, pretrain), (args.finetune_steps, finetune)):
        if option is not None:
            phase.steps = option
    if args.finetune_batch_size is not None:
        finetune.batch_size = args.finetune_batch_size
    if args.finetune_lr is not None:
        finetune.lr = args.finetune_lr
    for phase in config.phases:
        phase.temperature_factor = args.temperature_factor
    config.metrics.every = args.every
    config.metrics.samples = args.eval_samples
    config.checkpoints.every = pretrain.steps + finetune.steps
    return config


def run_well(well: str, losses: list[str], out: Path, args: argparse.Namespace) -> WellRun:
    """Train the shared pre-training, then each loss's fine-tune branched from its end."""
    config = _preset(well, losses[0], args)
    started = time.perf_counter()
    pretrained = train(
        config, out / PRETRAIN, stop_at_step=config.phases[0].steps, progress=args.progress
    )
    print(f"{well}: pre-training {time.perf_counter() - started:.0f} s", flush=True)
    run = WellRun({}, {"pre-trained": pretrained.flow}, {})
    for loss in losses:
        config = _preset(well, loss, args)
        branch_run(out / PRETRAIN, PRETRAIN, config, out / loss)
        started = time.perf_counter()
        result = train(config, out / loss, resume=True, progress=args.progress)
        run.seconds[loss] = time.perf_counter() - started
        print(f"{well}: fine-tune {loss} {run.seconds[loss]:.0f} s", flush=True)
        run.records[loss] = MetricsLog(out / loss / "metrics.jsonl").read()
        run.flows[loss] = result.flow
    return run


def _fraction_series(records: list[dict]) -> list[tuple[int, float, float]]:
    """``(step, minor fraction, binomial standard error)`` of every record with samples."""
    series = []
    for record in records:
        samples = record.get("samples")
        if samples and "mode_fractions" in samples:
            fraction, n = samples["mode_fractions"]["minor"], samples["n"]
            series.append((record["step"], fraction, math.sqrt(fraction * (1 - fraction) / n)))
    return series


def _reverse_kl_series(records: list[dict], log_partition: float) -> np.ndarray:
    """``(3, k)``: steps, reverse KL(p_G‖p_B) in nats (``log Z_B`` = ``log_partition``)
    and zero error bands, from every record with samples."""
    rows = [
        (r["step"], log_partition - r["samples"]["mean_log_ratio"], 0.0)
        for r in records
        if r.get("samples")
    ]
    return np.array(rows).T


def finetune_summary(
    records: list[dict], reference: float, tolerance: float, seconds: float, log_partition: float
) -> dict[str, float | int | bool | None]:
    """Minor-mode fraction over one fine-tune: its values at the start (the last
    pre-training record), end, minimum and maximum, the largest ``|f - reference|`` over
    all of them, whether that stays within ``tolerance``, the final Kish ESS fraction, the
    mean seconds per training step (evaluations excluded), ``seconds`` (the wall clock) and
    the number of fine-tune ``steps``; and the reverse KL(p_G‖p_B) (nats, ``log Z_B`` =
    ``log_partition``) at the start and end with its largest rise between two evaluations
    (thesis §7.2 proves that ``l2_plus`` never raises it in the small-step limit)."""
    pretrained = [r for r in records if r["phase"] == PRETRAIN]
    tuned = [r for r in records if r["phase"] == FINETUNE]
    evaluated = [pretrained[-1], *tuned]
    fractions = [f for _, f, _ in _fraction_series(evaluated)]
    deviation = max(abs(f - reference) for f in fractions)
    reverse_kl = list(_reverse_kl_series(evaluated, log_partition)[1])
    return {
        "start": fractions[0],
        "end": fractions[-1],
        "min": min(fractions),
        "max": max(fractions),
        "max_deviation": deviation,
        "within_tolerance": deviation <= tolerance,
        "final_ess_fraction": tuned[-1]["samples"]["ess_fraction"],
        "seconds_per_step": sum(r["seconds_per_step"] for r in tuned) / len(tuned),
        "seconds": seconds,
        "steps": tuned[-1]["step"] - pretrained[-1]["step"],
        "reverse_kl_start": reverse_kl[0],
        "reverse_kl_end": reverse_kl[-1],
        "reverse_kl_largest_rise": float(np.diff(reverse_kl).max()),
    }


def finetune_table(summaries: dict[str, dict], tolerance: float) -> str:
    """Markdown table of :func:`finetune_summary` results, one row per loss."""
    lines = [
        f"| loss | start | end | min | max | max abs(f-ref) | within ±{tolerance:g} "
        "| final ESS/n | KL(p_G‖p_B) start → end (largest rise) | s/step | s per fine-tune |",
        "|---" * 11 + "|",
    ]
    for loss, s in summaries.items():
        ess = s["final_ess_fraction"]
        lines.append(
            f"| {loss} | {s['start']:.3f} | {s['end']:.3f} | {s['min']:.3f} | {s['max']:.3f} "
            f"| {s['max_deviation']:.3f} | {'yes' if s['within_tolerance'] else 'no'} "
            f"| {'n/a' if ess is None else f'{ess:.3f}'} "
            f"| {s['reverse_kl_start']:.2f} → {s['reverse_kl_end']:.2f} "
            f"({s['reverse_kl_largest_rise']:+.2f}) | {s['seconds_per_step']:.4f} "
            f"| {s['seconds']:.0f} |"
        )
    return "\n".join(lines)


def flow_drives(samples: dict[str, np.ndarray], log_partition: float) -> dict[str, float]:
    """Minor-mode fraction, reverse KL(p_G‖p_B) (``log Z_B`` = ``log_partition``) and the
    ``kl_x`` and ``l2_plus`` drives on the minor mode (:mod:`molgen.losses.drive`), nats,
    with standard errors, of one flow's samples."""
    log_ratio = torch.from_numpy(samples["u_g"] - samples["u_b"])
    minor = torch.from_numpy(samples["x0"] > 0)
    row = {
        "minor_fraction": float(minor.double().mean()),
        "reverse_kl": log_partition - float(log_ratio.mean()),
        "reverse_kl_se": float(log_ratio.std() / math.sqrt(len(log_ratio))),
    }
    for loss, drive in mode_drives(log_ratio, minor).items():
        row[loss] = drive.value
        row[f"{loss}_se"] = drive.standard_error
    return row


def drive_table(drives: dict[str, dict[str, float]]) -> str:
    """Markdown table of :func:`flow_drives` rows, one per flow."""
    lines = [
        "Drive of each loss on the minor mode (nats; positive feeds it, "
        "`molgen.losses.drive`), from the flows' samples:",
        "",
        "| flow | minor fraction | KL(p_G‖p_B) | kl_x drive | l2_plus drive |",
        "|---|---|---|---|---|",
    ]
    for label, row in drives.items():
        lines.append(
            f"| {label} | {row['minor_fraction']:.3f} "
            f"| {row['reverse_kl']:.2f} ± {row['reverse_kl_se']:.2g} "
            f"| {row['kl_x']:+.3g} ± {row['kl_x_se']:.2g} "
            f"| {row['l2_plus']:+.3g} ± {row['l2_plus_se']:.2g} |"
        )
    return "\n".join(lines)


@torch.no_grad()
def _flow_samples(flow: Flow, energy: ReducedEnergy, seed: int) -> dict[str, np.ndarray]:
    """``x0``, ``U_G = -log p_G`` and ``βU_B`` of ``PLOT_SAMPLES`` samples, each ``(n,)``."""
    x, log_prob = flow.sample(PLOT_SAMPLES, generator=torch.Generator().manual_seed(seed))
    return {
        "x0": x[:, 0].double().numpy(),
        "u_g": (-log_prob).double().numpy(),
        "u_b": energy(x.double()).numpy(),
    }


def x0_density(beta: float) -> np.ndarray:
    """Quadrature density of x0 on ``X0_GRID`` at inverse temperature ``beta`` ``(601,)``."""
    reduced = beta * bimodal_energy(torch.from_numpy(X0_GRID)).numpy()
    density = np.exp(-(reduced - reduced.min()))
    return density / trapezoid(density, X0_GRID)


def write_outputs(
    run: WellRun,
    system: System,
    reference: float,
    variant: str,
    directory: Path,
    args: argparse.Namespace,
    command: str,
) -> dict[str, dict]:
    """Write :data:`OUTPUTS` of one well into ``directory``; returns the per-loss summaries.

    ``reference`` is the quadrature minor-mode fraction at the run's temperature and
    ``command`` the command line recorded in the report.
    """
    well = system.toy_energy
    log_partition = DoubleWell(
        well.dim, well.gaussian_std, well.beta / args.temperature_factor
    ).log_partition()
    summaries = {
        loss: finetune_summary(records, reference, args.tolerance, run.seconds[loss], log_partition)
        for loss, records in run.records.items()
    }
    first = next(iter(run.records.values()))
    pretrain_end = max(r["step"] for r in first if r["phase"] == PRETRAIN)
    n_eval = first[-1]["samples"]["n"]
    energy = ReducedEnergy(system, args.temperature_factor)
    samples = {label: _flow_samples(flow, energy, args.seed) for label, flow in run.flows.items()}
    drives = {label: flow_drives(s, log_partition) for label, s in samples.items()}
    report = (
        f"# {variant}: minor-mode fraction during fine-tuning\n\n"
        f"System {system.name}, temperature x{args.temperature_factor:g}, flow "
        f"{'standardized' if args.standardize else 'not standardized'}, seed {args.seed}. "
        f"Quadrature minor-mode fraction {reference:.4f}. Fractions from {n_eval} fresh "
        f"samples every {args.every} steps (binomial standard error "
        f"{math.sqrt(reference * (1 - reference) / n_eval):.4f} at the reference); start = "
        f"end of the {pretrain_end}-step pre-training, included in min/max.\n\n"
        f"{finetune_table(summaries, args.tolerance)}\n\n{drive_table(drives)}\n\n`{command}`\n"
    )
    directory.mkdir(parents=True, exist_ok=True)
    write_text_atomic(directory / "report.md", report)
    settings = {key: value for key, value in vars(args).items() if key not in ("out", "results")}
    summary = {"variant": variant, "reference": reference, "command": command}
    summary |= {"settings": settings, "losses": summaries, "drives": drives}
    write_json_atomic(directory / "summary.json", summary)

    traces = {"pre-training": [r for r in first if r["phase"] == PRETRAIN]}
    for loss, records in run.records.items():
        traces[loss] = [r for r in records if r["step"] >= pretrain_end]
    plot_fraction_traces(
        directory / "minor_fraction.png",
        {label: np.array(_fraction_series(r)).T for label, r in traces.items()},
        reference,
        tolerance=args.tolerance,
        marks={"end of pre-training": pretrain_end},
        ylabel=FRACTION_LABEL,
        reference_label="exact (quadrature)",
    )
    plot_fraction_traces(
        directory / "reverse_kl.png",
        {label: _reverse_kl_series(r, log_partition) for label, r in traces.items()},
        -math.log(1.0 - reference),
        marks={"end of pre-training": pretrain_end},
        ylabel="KL(p_G‖p_B) (nats)",
        reference_label="baseline: a flow with only the major mode, exact:",
        log_y=True,
        reference_color="grey",
    )
    plot_marginal_panels(
        directory / "x0_histogram.png",
        {
            f"{label} (minor {drives[label]['minor_fraction']:.3f})": s["x0"]
            for label, s in samples.items()
        },
        X0_GRID,
        x0_density(system.beta / args.temperature_factor),
    )
    plot_energy_scatter_panels(
        directory / "energy_scatter.png",
        {
            label: (s["u_g"][:SCATTER_POINTS], s["u_b"][:SCATTER_POINTS])
            for label, s in samples.items()
        },
    )
    print(report, flush=True)
    return summaries


def _variant(well: str, args: argparse.Namespace) -> str:
    suffix = "" if args.temperature_factor == 1.0 else f"_t{args.temperature_factor:g}"
    return f"{well}{suffix}{'_standardized' if args.standardize else ''}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.double_well_losses",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--wells", nargs="+", default=["wide"], choices=WELLS)
    parser.add_argument(
        "--losses", nargs="+", default=list(LOSSES), choices=LOSSES, help="fine-tune presets"
    )
    parser.add_argument("--pretrain-steps", type=int, help="override the presets' 2000")
    parser.add_argument("--finetune-steps", type=int, help="override the presets' 1000")
    parser.add_argument(
        "--finetune-batch-size", type=int, help="override the presets' 256 in the fine-tunes"
    )
    parser.add_argument(
        "--finetune-lr", type=float, help="override the presets' Adam lr 1e-4 in the fine-tunes"
    )
    parser.add_argument(
        "--temperature-factor",
        type=float,
        default=1.0,
        help="target and data at temperature xF in both phases (thesis §4.5 uses 2)",
    )
    parser.add_argument(
        "--standardize",
        action="store_true",
        help="end the flow in a standardisation layer fitted on the data (thesis §5.4)",
    )
    parser.add_argument("--every", type=int, default=25, help="evaluate every k steps")
    parser.add_argument(
        "--eval-samples",
        type=int,
        default=16384,
        help="fresh samples per evaluation (16384: standard error 0.003 at fraction 0.22)",
    )
    parser.add_argument(
        "--tolerance", type=float, default=0.02, help="band around the quadrature fraction"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/double_well"))
    parser.add_argument("--results", type=Path, help="also copy reports and plots here")
    parser.add_argument("--progress", action="store_true", help="show tqdm bars")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    command = rerun_command("benchmarks.double_well_losses", argv)
    for well in args.wells:
        variant = _variant(well, args)
        system = systems.load(f"double_well_{well}")
        reference = minor_mode_fraction(system.beta / args.temperature_factor)
        run = run_well(well, args.losses, args.out / variant, args)
        write_outputs(run, system, reference, variant, args.out / variant, args, command)
        if args.results is not None:
            _copy_outputs(args.out / variant, args.results / variant)


def _copy_outputs(source: Path, destination: Path) -> None:
    """Copy :data:`OUTPUTS` from the folder ``source`` into ``destination`` (made if
    missing), each file atomically."""
    for name in OUTPUTS:
        with atomic_path(destination / name) as temporary:
            shutil.copyfile(source / name, temporary)


if __name__ == "__main__":
    main()
