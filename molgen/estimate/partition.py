"""The Boltzmann partition function from generator samples (thesis fn 73).

``Z_B = E_{p_G}[p̃_B / p_G]``, so ``log Ẑ_B = logmeanexp(log w)`` with the sidecar's
``log w`` (``−βU_B − log p_G``, less ``log Z_align`` for aligned runs). The delta-method
standard error of ``log Ẑ_B`` is ``sqrt(1/ESS − 1/n)`` (the relative error of a mean of
positive weights, influence terms ``w̄_i − 1/n``); the confidence interval comes from a
seeded percentile bootstrap over samples. For a time series (``correlated``) the
variance is multiplied, and the ESS divided, by the statistical inefficiency ``g`` of
:func:`~molgen.estimate.ess.series_inefficiency` (the weights and any ``series`` given,
e.g. the state indicators the populations use, so that both are refused together), and
the bootstrap resamples blocks of ``ceil(3 g)`` consecutive samples (in 800 AR(1) chains,
blocks of ``ceil(g)`` covered log Z 0.85 of the time for a nominal 0.95, blocks of
``3 g`` 0.91: ``benchmarks/error_bar_coverage.py``).

What ``Z_B`` is depends on the samples' weights:

- toys: ``∫ exp(−βU_B(x)) dx`` over the generator's coordinates;
- molecules sampled with an alignment penalty: ``log w`` subtracts the rigid-motion
  integral ``log Z_align(x)`` (DESIGN decision 3), so ``Z_B`` is ``∫ exp(−βU_B(x)) dx``
  per unit rigid-motion measure: divided by the measure of the poses, Haar measure on
  SO(3) normalised to 1 times translations in nm³ (the integral over all poses diverges);
- generators with a canonical labelling of methyl hydrogens (``is_canonical``; other
  samples have ``log w = −inf``) cover one of the ``3^k`` equivalent labellings of ``k``
  rotors, so ``Z_B`` is the integral over that fundamental domain, ``1/3^k`` of the
  integral over every labelling;
- with deterministic hydrogens ``G^H``, the heavy-atom integral of
  ``exp(−βU(x_C, G^H(x_C)))`` (the thesis's ``p̄``, App. A.2).

A molecule sampled without an alignment penalty has no finite ``Z_B`` (its integral over
translations diverges): ``log Ẑ_B`` is then not an estimate of anything. Nor is it for
equally weighted samples (MD or parallel-tempering frames of ``p_B`` itself, whose
``log w`` is 0): they carry no information about ``Z_B``, and the estimate is withheld.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from molgen.estimate.ess import DEFAULT_THRESHOLD, EssThreshold, kish_ess, series_inefficiency
from molgen.estimate.influence import influence_stderr
from molgen.estimate.logspace import as_log_weights, log_mean_exp, normalized_weights
from molgen.estimate.result import Estimate, untrusted

__all__ = ["EQUAL_WEIGHTS", "LogPartitionEstimate", "log_partition_function"]

EQUAL_WEIGHTS = (
    "every weight is equal (samples of the target itself, e.g. MD frames): they carry no "
    "information about Z_B"
)


@dataclass(frozen=True)
class LogPartitionEstimate:
    """``log Z_B`` with its standard error and bootstrap confidence interval.

    Attributes:
        estimate: ``log Z_B`` (dimensionless; ``Z_B`` as in the module docstring) with its
            delta-method standard error.
        interval: ``(low, high)`` percentile-bootstrap interval, ``(nan, nan)`` when untrusted.
        confidence: the interval's coverage, e.g. 0.95.
        ess: effective sample size of the weights (Kish; over ``g`` for a time series).
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
            "interval": [_json_bound(low), _json_bound(high)] if self.estimate.trusted else None,
            "confidence": self.confidence,
            "ess": self.ess,
        }


def _json_bound(bound: float) -> float | None:
    """An interval end for JSON: ``None`` for ``-inf`` (resamples that drew only
    zero-weight samples)."""
    return float(bound) if math.isfinite(bound) else None


def _bootstrap_indices(generator: np.random.Generator, n: int, block: int) -> np.ndarray:
    """``(n,)`` indices of a moving-block bootstrap with blocks of ``block`` samples
    (``block = 1``: the ordinary bootstrap)."""
    starts = generator.integers(0, n - block + 1, math.ceil(n / block))
    return (starts[:, None] + np.arange(block)).reshape(-1)[:n]


def log_partition_function(
    log_w: np.ndarray,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    threshold: EssThreshold = DEFAULT_THRESHOLD,
    correlated: bool = False,
    series: np.ndarray | None = None,
) -> LogPartitionEstimate:
    """``log Z_B = logmeanexp(log w)`` (thesis fn 73) with error and bootstrap interval.

    Arguments:
        log_w: ``(n,)`` unnormalised log weights of samples of ``p_G`` (see the module
            docstring), in sample order.
        n_bootstrap: bootstrap resamples for the interval.
        confidence: coverage of the interval.
        seed: seed of the bootstrap's generator (same seed, same interval).
        threshold: least effective sample size at which a value is given.
        correlated: the samples are a time series (see the module docstring).
        series: ``(n,)`` or ``(k, n)`` series whose statistical inefficiency also counts
            for a time series (e.g. state indicators); ignored for independent samples.
    """
    log_w = as_log_weights(log_w)
    n = log_w.size
    g = series_inefficiency(log_w, series) if correlated else 1.0
    ess = kish_ess(log_w) / g
    refusal = EQUAL_WEIGHTS if np.all(log_w == log_w[0]) else threshold.refusal(ess, n)
    if refusal:
        return LogPartitionEstimate(untrusted(refusal), (np.nan, np.nan), confidence, ess)
    value = float(log_mean_exp(log_w))
    stderr = influence_stderr(normalized_weights(log_w) - 1.0 / n) * math.sqrt(g)
    generator = np.random.default_rng(seed)
    block = min(n, math.ceil(3 * g)) if correlated else 1
    resampled = np.empty(n_bootstrap)
    for index in range(n_bootstrap):
        resampled[index] = log_mean_exp(log_w[_bootstrap_indices(generator, n, block)])
    tail = 50.0 * (1.0 - confidence)
    # Resamples of only zero-weight samples have log Z = -inf; a percentile interpolated
    # between two of them is NaN (-inf - -inf) and is -inf.
    with np.errstate(invalid="ignore"):
        bounds = np.percentile(resampled, [tail, 100.0 - tail])
    low, high = np.nan_to_num(bounds, nan=-np.inf, posinf=np.inf, neginf=-np.inf)
    return LogPartitionEstimate(Estimate(value, stderr), (float(low), float(high)), confidence, ess)
