"""Kish effective sample size of importance weights, and the threshold below which
estimates are refused.

The Kish ESS ``(Σ w)² / Σ w²`` is ``n`` for equal weights and 1 when one weight
dominates. It assumes independent samples; for a time series (MD, parallel tempering)
:func:`effective_sample_size` divides it by a statistical inefficiency ``g`` (in samples,
:func:`series_inefficiency`): the largest of those of the normalised weights and of the
series the estimate averages (its observable, its state indicators, its reduced energy
differences). The weights alone are not enough: equal weights are a constant series
(``g = 1``), so MD frames would always count as ``n`` independent samples, however slowly
the observable decorrelates. With equal weights the ESS is ``n / g``.

Self-normalised estimates are withheld when it falls below :class:`EssThreshold`, by
default ``max(50, 1 % of n)``, with the reason "too few effective samples" (poor overlap
of the weights, autocorrelation of the frames, or both). Fifty effective samples keep the
relative error of a self-normalised mean of a bounded quantity near ``1/sqrt(50) ≈ 14 %`` and its
delta-method error bar meaningful; 1 % of ``n`` catches large runs whose weights have
collapsed onto a small fraction of the samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from forcefields.errors import ShapeMismatchError
from molgen.estimate.logspace import as_log_weights, normalized_weights
from systems.reference.populations import (
    MIN_EFFECTIVE_FRACTION,
    MIN_EFFECTIVE_FRAMES,
    required_effective_frames,
)
from systems.reference.timeseries import statistical_inefficiency

__all__ = [
    "kish_ess",
    "ess_fraction",
    "effective_sample_size",
    "series_inefficiency",
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


def series_inefficiency(log_w: np.ndarray, series: np.ndarray | None = None) -> float:
    """Statistical inefficiency ``g ≥ 1`` (samples) of weighted samples in time order.

    Arguments:
        log_w: log weights ``(n,)`` in sample order.
        series: what the estimate averages, in the same order: ``(n,)`` or ``(k, n)``
            (one row per observable or state indicator), or ``None``.

    Returns:
        The largest ``g`` of the normalised weights and of each row of ``series``
        (``pymbar.timeseries``; a constant row has ``g = 1``).

    Raises:
        ShapeMismatchError: ``series`` rows of another length than ``log_w``.
    """
    log_w = as_log_weights(log_w)
    rows = [normalized_weights(log_w)]
    if series is not None:
        series = np.atleast_2d(np.asarray(series, dtype=np.float64))
        if series.ndim != 2 or series.shape[1] != log_w.size:
            raise ShapeMismatchError(
                f"series: shape {series.shape} does not match {log_w.size} samples"
            )
        rows += list(series)
    return max(1.0, *(statistical_inefficiency(row) for row in rows))


def effective_sample_size(
    log_w: np.ndarray, correlated: bool = False, series: np.ndarray | None = None
) -> float:
    """Kish ESS of log weights ``(n,)``; for a time series (``correlated``) divided by
    :func:`series_inefficiency` of the weights and ``series`` (``(n,)`` or ``(k, n)``,
    what the estimate averages; ignored for independent samples)."""
    ess = kish_ess(log_w)
    if not correlated:
        return ess
    return ess / series_inefficiency(log_w, series)


@dataclass(frozen=True)
class EssThreshold:
    """The least effective sample size at which an importance-sampling estimate is given.

    Attributes:
        min_ess: absolute floor on the Kish ESS.
        min_fraction: floor on ESS / n.

    The required ESS for ``n`` samples is ``max(min_ess, min_fraction * n)``.
    """

    min_ess: float = MIN_EFFECTIVE_FRAMES
    min_fraction: float = MIN_EFFECTIVE_FRACTION

    def required(self, n: int) -> float:
        """The least acceptable ESS for ``n`` samples."""
        return required_effective_frames(n, self.min_ess, self.min_fraction)

    def refusal(self, ess: float, n: int, what: str = "weights") -> str:
        """Why an ESS of ``ess`` out of ``n`` is too poor, or ``""`` when it is enough."""
        needed = self.required(n)
        if ess >= needed:
            return ""
        return (
            f"too few effective samples: ESS of the {what} {ess:.1f} of {n} samples < {needed:.1f}"
        )


DEFAULT_THRESHOLD = EssThreshold()
