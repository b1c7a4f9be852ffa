"""The Pareto tail index of importance weights: whether their error bars can be trusted.

Self-normalised importance estimates and their delta-method errors assume weights of
finite variance. The largest weights of a heavy-tailed distribution are rarely drawn, so
an ESS computed from the weights in hand can look healthy while the error bars are far
too small (``benchmarks/error_bar_coverage.py``). Fitting a generalised Pareto
distribution to the largest weights estimates the tail's shape k̂ (Vehtari et al.,
"Pareto Smoothed Importance Sampling", 2024): k̂ < 0.5 means finite variance; above
:data:`FINITE_VARIANCE_K` = 0.5 the central limit theorem behind the error bars fails,
and above :data:`PARETO_K_LIMIT` = 0.7 the estimates themselves are unreliable. With
few samples the paper's limit is lower, ``min(1 − 1/log₁₀ n, 0.7)`` (0.67 for 1,000
samples, 0.5 for 100): the pre-asymptotic error of a tail that heavy needs more samples
than that to shrink (:func:`reliability_limit`).

In that benchmark (800 repetitions of 5,000 samples per proposal) k̂ exceeded 0.5 in none
of the repetitions with a proposal wider than the target and in 86–99 % of those with
heavy-tailed weights, whose populations' 2-standard-error intervals covered the truth
57–93 % of the time. The heavy-tailed repetitions with k̂ ≤ 0.5 are those that missed
the largest weights, and they cover worst: a low k̂ is no proof of good error bars.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import genpareto

__all__ = [
    "FINITE_VARIANCE_K",
    "PARETO_K_LIMIT",
    "pareto_tail_index",
    "reliability_limit",
    "tail_warning",
]

FINITE_VARIANCE_K = 0.5
PARETO_K_LIMIT = 0.7
MIN_TAIL = 5


def pareto_tail_index(log_w: np.ndarray) -> float | None:
    """k̂ of the largest ``min(n / 5, 3 √n)`` weights ``exp(log_w)``, fitted by maximum
    likelihood as exceedances over the next largest weight; ``None`` when the tail has
    fewer than 5 weights or no spread (equal weights, as of MD frames).

    Arguments:
        log_w: ``(n,)`` log importance weights (``-inf`` allowed).
    """
    log_w = np.asarray(log_w, dtype=np.float64).reshape(-1)
    finite = log_w[np.isfinite(log_w)]
    size = int(min(finite.size / 5, 3 * math.sqrt(finite.size)))
    if size < MIN_TAIL:
        return None
    weights = np.sort(np.exp(finite - finite.max()))
    exceedances = weights[-size:] - weights[-size - 1]
    if not np.any(exceedances > 0):
        return None
    shape, _, _ = genpareto.fit(exceedances, floc=0.0)
    return float(shape)


def reliability_limit(n: int | None) -> float:
    """The k̂ above which estimates from ``n`` weights are unreliable (Vehtari et al.
    2024): ``min(1 − 1/log₁₀ n, 0.7)``; :data:`PARETO_K_LIMIT` when ``n`` is unknown."""
    if n is None or n <= 10:
        return PARETO_K_LIMIT if n is None else 0.0
    return min(1.0 - 1.0 / math.log10(n), PARETO_K_LIMIT)


def tail_warning(pareto_k: float | None, n: int | None = None) -> str:
    """Why estimates from ``n`` weights with tail index ``pareto_k`` are unreliable, or
    ``""`` (``n`` unknown: the limit for large samples)."""
    limit = reliability_limit(n)
    if pareto_k is None or not pareto_k > min(limit, FINITE_VARIANCE_K):
        return ""
    if pareto_k > limit:
        return (
            f"Pareto k of the weights {pareto_k:.2f} > {limit:.2f}"
            f"{'' if n is None else f' (the limit for {n} samples)'}: heavy-tailed weights, "
            "the estimates and their error bars are unreliable"
        )
    return (
        f"Pareto k of the weights {pareto_k:.2f} > {FINITE_VARIANCE_K}: weights of infinite "
        "variance, the error bars are likely too small"
    )
