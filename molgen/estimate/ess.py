"""Kish effective sample size of importance weights, and the threshold below which
estimates are refused.

The Kish ESS ``(Σ w)² / Σ w²`` is ``n`` for equal weights and 1 when one weight
dominates. It assumes independent samples; for a time series (MD, parallel tempering)
:func:`effective_sample_size` divides it by the statistical inefficiency ``g`` of the
normalised weight series (``g = 1`` for equal weights).

Self-normalised estimates are withheld when it falls below :class:`EssThreshold`, by
default ``max(50, 1 % of n)``. Fifty effective samples keep the relative error of a
self-normalised mean of a bounded quantity near ``1/sqrt(50) ≈ 14 %`` and its
delta-method error bar meaningful; 1 % of ``n`` catches large runs whose weights have
collapsed onto a small fraction of the samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from molgen.estimate.logspace import as_log_weights, normalized_weights
from systems.reference.timeseries import statistical_inefficiency

__all__ = [
    "kish_ess",
    "ess_fraction",
    "effective_sample_size",
    "EssThreshold",
    "DEFAULT_THRESHOLD",
]


def kish_ess(log_w: np.ndarray) -> float:
    """Kish effective sample size ``(Σ w)² / Σ w²`` of log weights ``(n,)``, in ``[1, n]``."""
    log_w = as_log_weights(log_w)
    return float(np.exp(2.0 * logsumexp(log_w) - logsumexp(2.0 * log_w)))


def ess_fraction(log_w: np.ndarray) -> float:
    """Kish ESS divided by the sample count ``n``, in ``(0, 1]``."""
    return kish_ess(log_w) / np.asarray(log_w).size


def effective_sample_size(log_w: np.ndarray, correlated: bool = False) -> float:
    """Kish ESS of log weights ``(n,)``; for a time series, divided by the statistical
    inefficiency ``g ≥ 1`` of the normalised weights in sample order."""
    ess = kish_ess(log_w)
    if not correlated:
        return ess
    return ess / max(statistical_inefficiency(normalized_weights(log_w)), 1.0)


@dataclass(frozen=True)
class EssThreshold:
    """The least effective sample size at which an importance-sampling estimate is given.

    Attributes:
        min_ess: absolute floor on the Kish ESS.
        min_fraction: floor on ESS / n.

    The required ESS for ``n`` samples is ``max(min_ess, min_fraction * n)``.
    """

    min_ess: float = 50.0
    min_fraction: float = 0.01

    def required(self, n: int) -> float:
        """The least acceptable ESS for ``n`` samples."""
        return max(self.min_ess, self.min_fraction * n)

    def refusal(self, ess: float, n: int, what: str = "weights") -> str:
        """Why an ESS of ``ess`` out of ``n`` is too poor, or ``""`` when it is enough."""
        needed = self.required(n)
        if ess >= needed:
            return ""
        return f"overlap too poor: ESS of the {what} {ess:.1f} of {n} samples < {needed:.1f}"


DEFAULT_THRESHOLD = EssThreshold()
