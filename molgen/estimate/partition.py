"""The Boltzmann partition function from generator samples (thesis fn 73).

``Z_B = E_{p_G}[p̃_B / p_G]``, so ``log Ẑ_B = logmeanexp(log w)`` with
``log w = −βU_B − log p_G``. The delta-method standard error of ``log Ẑ_B`` is
``sqrt(1/ESS − 1/n)`` (the relative error of a mean of positive weights); the
confidence interval comes from a seeded percentile bootstrap over samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from molgen.estimate.ess import DEFAULT_THRESHOLD, EssThreshold, kish_ess
from molgen.estimate.logspace import as_log_weights, log_mean_exp
from molgen.estimate.result import Estimate, untrusted

__all__ = ["LogPartitionEstimate", "log_partition_function"]


@dataclass(frozen=True)
class LogPartitionEstimate:
    """``log Z_B`` with its standard error and bootstrap confidence interval.

    Attributes:
        estimate: ``log Z_B`` (dimensionless; ``Z_B = ∫ exp(−βU_B)`` in the generator's
            coordinate units) with its delta-method standard error.
        interval: ``(low, high)`` percentile-bootstrap interval, ``(nan, nan)`` when untrusted.
        confidence: the interval's coverage, e.g. 0.95.
        ess: Kish effective sample size of the weights.
    """

    estimate: Estimate
    interval: tuple[float, float]
    confidence: float
    ess: float

    def as_dict(self) -> dict:
        """JSON-ready form: the estimate's keys plus ``interval``, ``confidence``, ``ess``."""
        low, high = self.interval
        return {
            **self.estimate.as_dict(),
            "interval": [float(low), float(high)] if self.estimate.trusted else None,
            "confidence": self.confidence,
            "ess": self.ess,
        }


def log_partition_function(
    log_w: np.ndarray,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    threshold: EssThreshold = DEFAULT_THRESHOLD,
) -> LogPartitionEstimate:
    """``log Z_B = logmeanexp(log w)`` (thesis fn 73) with error and bootstrap interval.

    Arguments:
        log_w: ``(n,)`` unnormalised log weights ``−βU_B − log p_G`` of samples of ``p_G``.
        n_bootstrap: bootstrap resamples for the interval.
        confidence: coverage of the interval.
        seed: seed of the bootstrap's generator (same seed, same interval).
        threshold: least effective sample size at which a value is given.
    """
    log_w = as_log_weights(log_w)
    n = log_w.size
    ess = kish_ess(log_w)
    refusal = threshold.refusal(ess, n)
    if refusal:
        return LogPartitionEstimate(untrusted(refusal), (np.nan, np.nan), confidence, ess)
    value = float(log_mean_exp(log_w))
    stderr = float(np.sqrt(max(1.0 / ess - 1.0 / n, 0.0)))
    generator = np.random.default_rng(seed)
    resampled = np.empty(n_bootstrap)
    for index in range(n_bootstrap):
        resampled[index] = log_mean_exp(log_w[generator.integers(0, n, n)])
    tail = 50.0 * (1.0 - confidence)
    low, high = np.percentile(resampled, [tail, 100.0 - tail])
    return LogPartitionEstimate(Estimate(value, stderr), (float(low), float(high)), confidence, ess)
