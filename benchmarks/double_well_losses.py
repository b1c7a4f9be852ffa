"""Double-well loss comparison: one short pre-training, then one data-free fine-tune per loss.

Reproduces the thesis's §4.4 / §6 / §7 comparison with the real trainer: the presets
``configs/double_well/<well>_<loss>.yaml`` share their ``kl_z_dd`` pre-training phase, which
is trained once; every fine-tune branches from its end (:func:`molgen.training.branch_run`).
Writes, per well, ``<out>/<well>/report.md`` (minor-mode fraction over the fine-tune with
its binomial standard error, Kish ESS, seconds per step) and ``minor_fraction.png`` (fraction
versus iteration, quadrature reference as a line).

    OMP_NUM_THREADS=1 python -m benchmarks.double_well_losses --wells wide \
        --losses kl_x kl_z_df pl2_gb pl2_cb l2_plus mixture --out bench/double_well
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import systems
from molgen.training import MetricsLog, branch_run, load_config, train
from molgen.training.config import TrainConfig
from systems.double_well import minor_mode_fraction

__all__ = ["finetune_table", "main", "plot_fractions", "run_well"]

PRESETS = Path(__file__).resolve().parent.parent / "configs" / "double_well"
PRETRAIN = "pretrain"
FINETUNE = "finetune"


def _preset(well: str, loss: str, args: argparse.Namespace) -> TrainConfig:
    config = load_config(PRESETS / f"{well}_{loss}.yaml")
    config.seed = args.seed
    pretrain, finetune = config.phases
    for option, phase in ((args.pretrain_steps, pretrain), (args.finetune_steps, finetune)):
        if option is not None:
            phase.steps = option
    if args.every is not None:
        config.metrics.every = args.every
    if args.eval_samples is not None:
        config.metrics.samples = args.eval_samples
    config.checkpoints.every = pretrain.steps + finetune.steps
    return config


def run_well(well: str, losses: list[str], out: Path, args: argparse.Namespace) -> dict[str, list]:
    """Train the shared pre-training and each fine-tune; returns each run's metric records."""
    shared = out / PRETRAIN
    config = _preset(well, losses[0], args)
    started = time.perf_counter()
    train(config, shared, stop_at_step=config.phases[0].steps, progress=args.progress)
    print(f"{well}: pre-training {time.perf_counter() - started:.0f} s")
    records = {}
    for loss in losses:
        config = _preset(well, loss, args)
        branch_run(shared, PRETRAIN, config, out / loss)
        started = time.perf_counter()
        train(config, out / loss, resume=True, progress=args.progress)
        print(f"{well}: fine-tune {loss} {time.perf_counter() - started:.0f} s")
        records[loss] = MetricsLog(out / loss / "metrics.jsonl").read()
    return records


def _fraction_series(records: list[dict]) -> list[tuple[int, float, float]]:
    """``(step, minor fraction, binomial standard error)`` of every record with samples."""
    series = []
    for record in records:
        samples = record.get("samples")
        if samples and "mode_fractions" in samples:
            fraction, n = samples["mode_fractions"]["minor"], samples["n"]
            series.append((record["step"], fraction, math.sqrt(fraction * (1 - fraction) / n)))
    return series


def finetune_table(records: dict[str, list], reference: float, columns: int = 5) -> str:
    """Markdown table: minor-mode fraction ± SE at evenly spaced fine-tune steps (step 0 is
    the end of pre-training), the largest deviation from ``reference`` over the fine-tune,
    the final Kish ESS and the mean seconds per fine-tune step."""
    lines = []
    for loss, run in records.items():
        pretrained = [r for r in run if r["phase"] == PRETRAIN]
        tuned = [r for r in run if r["phase"] == FINETUNE]
        start = pretrained[-1]["step"]
        series = [(s - start, f, e) for s, f, e in _fraction_series([pretrained[-1], *tuned])]
        picks = [series[round(i * (len(series) - 1) / (columns - 1))] for i in range(columns)]
        if not lines:
            steps = " | ".join(f"step {step}" for step, _, _ in picks)
            lines += [
                f"| loss | {steps} | max abs(f-ref) | ESS | s/step |",
                "|---" * (columns + 4) + "|",
            ]
        cells = " | ".join(f"{f:.3f} ± {e:.3f}" for _, f, e in picks)
        deviation = max(abs(f - reference) for _, f, _ in series[1:])
        ess = tuned[-1]["samples"]["ess_fraction"]
        seconds = sum(r["seconds_per_step"] for r in tuned) / len(tuned)
        ess_text = "n/a" if ess is None else f"{ess:.3f}"
        lines.append(f"| {loss} | {cells} | {deviation:.3f} | {ess_text} | {seconds:.4f} |")
    return "\n".join(lines)


def plot_fractions(records: dict[str, list], reference: float, title: str, path: Path) -> None:
    """Minor-mode fraction versus global iteration (± 1 SE band), reference as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 4.5))
    for loss, run in records.items():
        steps, fractions, errors = zip(*_fraction_series(run), strict=True)
        axes.plot(steps, fractions, label=loss, linewidth=1.2)
        low = [f - e for f, e in zip(fractions, errors, strict=True)]
        high = [f + e for f, e in zip(fractions, errors, strict=True)]
        axes.fill_between(steps, low, high, alpha=0.2)
    pretrain_end = max(r["step"] for r in next(iter(records.values())) if r["phase"] == PRETRAIN)
    axes.axvline(pretrain_end, color="grey", linestyle=":", label="end of pre-training")
    axes.axhline(reference, color="orange", linestyle="--", label=f"quadrature {reference:.3f}")
    axes.set_xlabel("iteration")
    axes.set_ylabel("minor-mode fraction")
    axes.set_title(title)
    axes.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wells", nargs="+", default=["wide"], choices=["wide", "medium"])
    parser.add_argument(
        "--losses",
        nargs="+",
        default=["kl_x", "kl_z_df", "pl2_gb", "pl2_cb", "l2_plus", "mixture"],
    )
    parser.add_argument("--pretrain-steps", type=int, help="override the presets' 2000")
    parser.add_argument("--finetune-steps", type=int, help="override the presets' 1000")
    parser.add_argument("--every", type=int, help="metrics every k steps (presets: 25)")
    parser.add_argument("--eval-samples", type=int, help="samples per metric line (presets: 4096)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("bench/double_well"))
    parser.add_argument("--progress", action="store_true", help="show tqdm bars")
    args = parser.parse_args(argv)
    for well in args.wells:
        records = run_well(well, args.losses, args.out / well, args)
        reference = minor_mode_fraction(systems.load(f"double_well_{well}").beta)
        table = finetune_table(records, reference)
        arguments = sys.argv[1:] if argv is None else argv
        command = "python -m benchmarks.double_well_losses " + " ".join(arguments)
        report = (
            f"# double_well_{well}: minor-mode fraction during fine-tuning\n\n"
            f"Quadrature reference: {reference:.4f}. Fractions from "
            f"{records[args.losses[0]][-1]['samples']['n']} fresh samples per point "
            f"(± binomial standard error). Seed {args.seed}.\n\n{table}\n"
        )
        (args.out / well / "report.md").write_text(report)
        plot_fractions(
            records, reference, f"double_well_{well}", args.out / well / "minor_fraction.png"
        )
        print(report)
        print(f"(command: {command.strip()})")


if __name__ == "__main__":
    main()
