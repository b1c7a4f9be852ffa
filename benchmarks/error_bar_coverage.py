"""How often molgen's importance-sampling error bars cover the truth, by simulation.

Target N(0, 1) (unnormalised density exp(−x²/2), so log Z = ½ log 2π), cut into three
states at x = −0.5 and x = 1; samples from a Gaussian proposal, weighted by
``log w = −x²/2 − log q(x)``. Each repetition estimates the three populations
(:func:`molgen.estimate.states.state_populations`), E[x] and E[x²]
(:func:`molgen.estimate.importance.importance_expectation`) and log Z with its bootstrap
interval (:func:`molgen.estimate.partition.log_partition_function`), and counts how often
the truth lies within 1 and 2 reported standard errors (nominal 68.3 % and 95.4 %) among
the estimates that were not refused. The proposals run from benign to heavy-tailed
weights (``infinite variance``: q narrower than the target, so E_q[w²] = ∞). A last
section samples the proposal N(0, 1) as an AR(1) chain (lag-one correlation 0.9) and
checks log Z of the target N(0.5, 1) (``correlated=True``: the error and the block
bootstrap count the chain's statistical inefficiency). Each proposal's table also gives
the share of repetitions whose Pareto tail index k̂ (:func:`molgen.estimate.tail.
pareto_tail_index`) exceeds 0.5 (infinite weight variance, where the delta-method error
bars lose their footing) and 0.7, and the 2-sem coverage of the repetitions with
k̂ ≤ 0.5::

    OMP_NUM_THREADS=1 python -m benchmarks.error_bar_coverage --repetitions 800 \
        --out benchmarks/results/error_bar_coverage.md
"""

from __future__ import annotations

import argparse
import math
import warnings

import numpy as np
from scipy.stats import norm

from benchmarks.markdown_report import publish_report
from benchmarks.rerun_command import rerun_command
from molgen.estimate.importance import importance_expectation
from molgen.estimate.partition import log_partition_function
from molgen.estimate.states import state_populations
from molgen.estimate.tail import FINITE_VARIANCE_K, PARETO_K_LIMIT, pareto_tail_index

PROPOSALS = {
    "benign, N(0.5, 1.2²)": (0.5, 1.2),
    "heavy tail, N(2, 1)": (2.0, 1.0),
    "heavy tail, N(1.5, 0.8²)": (1.5, 0.8),
    "infinite variance, N(1, 0.6²)": (1.0, 0.6),
}
STATES = ("left", "middle", "right")
CUTS = (-0.5, 1.0)
TRUE_POPULATIONS = np.diff(norm.cdf([-np.inf, *CUTS, np.inf]))
TRUE_LOG_Z = 0.5 * math.log(2 * math.pi)
PARETO_K = "Pareto k̂"


def _z_scores(x: np.ndarray, mean: float, sd: float, seed: int) -> dict[str, float]:
    """``(estimate − truth) / sem`` of each quantity (NaN where refused), whether the
    log Z bootstrap interval holds the truth (1 or 0), and the weights' Pareto k̂."""
    log_w = -0.5 * x**2 - norm.logpdf(x, mean, sd)
    labels = np.digitize(x, CUTS).astype(np.int64)
    scores = {}
    for index, (name, estimate) in enumerate(state_populations(labels, STATES, log_w).items()):
        scores[f"P({name})"] = _z(estimate, TRUE_POPULATIONS[index])
    scores["E[x]"] = _z(importance_expectation(x, log_w), 0.0)
    scores["E[x²]"] = _z(importance_expectation(x**2, log_w), 1.0)
    log_z = log_partition_function(log_w, seed=seed)
    scores["log Z"] = _z(log_z.estimate, TRUE_LOG_Z)
    low, high = log_z.interval
    scores["log Z, 95 % bootstrap interval"] = (
        float(low <= TRUE_LOG_Z <= high) if log_z.estimate.trusted else math.nan
    )
    scores[PARETO_K] = pareto_tail_index(log_w)
    return scores


def _z(estimate, truth: float) -> float:
    if not estimate.trusted or not estimate.stderr > 0:
        return math.nan
    return (estimate.value - truth) / estimate.stderr


def coverage(mean: float, sd: float, n: int, repetitions: int, seed: int) -> dict[str, dict]:
    """Per quantity: estimates given, coverage at 1 and 2 standard errors (or of the
    interval), the Monte-Carlo standard error of the 2-sem coverage, and the same among
    the repetitions with k̂ ≤ 0.5 (``light``); under :data:`PARETO_K`, the median k̂
    and the shares above 0.5 and :data:`PARETO_K_LIMIT`."""
    rng = np.random.default_rng(seed)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for repetition in range(repetitions):
            rows.append(_z_scores(rng.normal(mean, sd, n), mean, sd, seed + repetition))
    tail = np.array([math.nan if row[PARETO_K] is None else row[PARETO_K] for row in rows])
    light = tail <= FINITE_VARIANCE_K
    table = {
        PARETO_K: {
            "median": float(np.nanmedian(tail)),
            "above_half": float(np.mean(tail > FINITE_VARIANCE_K)),
            "above_limit": float(np.mean(tail > PARETO_K_LIMIT)),
        }
    }
    for key in rows[0]:
        if key == PARETO_K:
            continue
        values = np.array([row[key] for row in rows])
        table[key] = {
            **_covered(values, "interval" in key),
            "light": _covered(values[light], "interval" in key),
        }
    return table


def _covered(values: np.ndarray, interval: bool) -> dict[str, float]:
    """How many of ``values`` are finite z-scores, their coverage at 1 and 2 sem (of an
    interval: the mean of its 0/1 hits as the 2-sem entry), and the Monte-Carlo error of
    the latter."""
    given = values[np.isfinite(values)]
    if not len(given):
        return {"given": 0, "one": math.nan, "two": math.nan, "mc": math.nan}
    if interval:
        one, two = math.nan, float(given.mean())
    else:
        one, two = float(np.mean(np.abs(given) <= 1)), float(np.mean(np.abs(given) <= 2))
    spread = math.sqrt(two * (1 - two) / len(given))
    return {"given": len(given), "one": one, "two": two, "mc": spread}


def correlated_log_z_coverage(phi: float, n: int, repetitions: int, seed: int) -> dict[str, float]:
    """Coverage of log Z (within 2 sem, and by the 95 % block-bootstrap interval) for an
    AR(1) chain of N(0, 1) with lag-one correlation ``phi`` weighted towards N(0.5, 1):
    ``log w = x / 2 + ½ log 2π``, so log Z = ½ log 2π + 1/8 exactly."""
    rng = np.random.default_rng(seed)
    truth = TRUE_LOG_Z + 0.125
    within, inside = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for repetition in range(repetitions):
            x = np.empty(n)
            x[0] = rng.normal()
            noise = rng.normal(scale=math.sqrt(1 - phi**2), size=n)
            for index in range(1, n):
                x[index] = phi * x[index - 1] + noise[index]
            log_z = log_partition_function(
                x / 2 + TRUE_LOG_Z, seed=seed + repetition, correlated=True
            )
            if log_z.estimate.trusted:
                within.append(abs(log_z.estimate.value - truth) <= 2 * log_z.estimate.stderr)
                low, high = log_z.interval
                inside.append(low <= truth <= high)
    return {
        "given": len(within),
        "two": float(np.mean(within)),
        "interval": float(np.mean(inside)),
        "mc": math.sqrt(0.95 * 0.05 / max(len(within), 1)),
    }


def _cell(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=800)
    parser.add_argument("--samples", type=int, default=5000, help="samples per repetition")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="markdown report")
    args = parser.parse_args(argv)
    lines = [
        f"`{rerun_command('benchmarks.error_bar_coverage', argv)}`",
        "",
        f"{args.repetitions} repetitions of {args.samples} samples each; nominal coverage "
        "0.683 at 1 and 0.954 at 2 standard errors (0.95 for the bootstrap interval);",
        "± is the Monte-Carlo standard error of the 2-sem coverage.",
        "",
    ]
    for label, (mean, sd) in PROPOSALS.items():
        table = coverage(mean, sd, args.samples, args.repetitions, args.seed)
        tail = table.pop(PARETO_K)
        lines += [
            f"### proposal {label}",
            "",
            f"Pareto k̂: median {tail['median']:.2f}; above {FINITE_VARIANCE_K} in "
            f"{tail['above_half']:.3f} of the repetitions, above {PARETO_K_LIMIT} in "
            f"{tail['above_limit']:.3f}.",
            "",
            "| quantity | estimates given | within 1 sem | within 2 sem "
            f"| within 2 sem where k̂ ≤ {FINITE_VARIANCE_K} (estimates) |",
            "|---|---|---|---|---|",
        ]
        for key, row in table.items():
            lines.append(
                f"| {key} | {row['given']} | {_cell(row['one'])} "
                f"| {row['two']:.3f} ± {row['mc']:.3f} "
                f"| {_cell(row['light']['two'])} ({row['light']['given']}) |"
            )
        lines.append("")
    chain = correlated_log_z_coverage(0.9, args.samples, args.repetitions, args.seed)
    lines += [
        "### AR(1) chain of N(0, 1), lag-one correlation 0.9, target N(0.5, 1)",
        "",
        "| quantity | estimates given | within 2 sem | 95 % block-bootstrap interval |",
        "|---|---|---|---|",
        f"| log Z | {chain['given']} | {chain['two']:.3f} | {chain['interval']:.3f} "
        f"(± {chain['mc']:.3f} at nominal) |",
        "",
    ]
    publish_report(args.out, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
