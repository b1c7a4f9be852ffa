"""The Pareto tail index of importance weights: whether their error bars can be trusted.

Self-normalised importance estimates and their delta-method errors assume weights of
finite variance. The largest weights of a heavy-tailed distribution are rarely drawn, so
an ESS computed from the weights in hand can look healthy while the error bars are far
too small (``benchmarks/error_bar_coverage.py``). Fitting a generalised Pareto
distribution to the largest weights estimates the tail's shape k̂ (Vehtari et al.,
"Pareto Smoothed Importance Sampling", 2024): k̂ < 0.5 means finite variance, and above
:data:`PARETO_K_LIMIT` = 0.7 the estimates and their errors are unreliable.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import genpareto

__all__ = ["PARETO_K_LIMIT", "pareto_tail_index", "tail_warning"]

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


def tail_warning(pareto_k: float | None) -> str:
    """Why error bars from weights with tail index ``pareto_k`` are unreliable, or ``""``."""
    if pareto_k is None or not pareto_k > PARETO_K_LIMIT:
        return ""
    return (
        f"Pareto k of the weights {pareto_k:.2f} > {PARETO_K_LIMIT}: heavy-tailed weights, "
        "the error bars are likely too small"
    )
