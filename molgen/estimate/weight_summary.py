"""What a report says of the importance weights themselves, before any state estimate."""

from __future__ import annotations

import numpy as np

from molgen.estimate.ess import EssThreshold, effective_sample_size
from molgen.estimate.partition import log_partition_function
from molgen.estimate.tail import pareto_tail_index

__all__ = ["weight_summary"]


def weight_summary(
    log_w: np.ndarray,
    threshold: EssThreshold,
    seed: int,
    correlated: bool = False,
    series: np.ndarray | None = None,
) -> dict:
    """``ess``, ``pareto_k``, ``ess_fraction``, ``ess_required`` and ``log_z`` (as a dict)
    of the log weights ``(n,)``.

    Arguments:
        log_w: the samples' log importance weights, in sample order.
        threshold: least effective sample size at which log Z is given.
        seed: seed of the log Z bootstrap.
        correlated: the samples are a time series; the ESS and log Z count the statistical
            inefficiency of the weights and of ``series``.
        series: ``(k, n)`` what the report's estimates average (the state indicators), so
            that log Z and they are refused together; ignored for independent samples.
    """
    n = len(log_w)
    ess = effective_sample_size(log_w, correlated, series)
    log_z = log_partition_function(
        log_w, seed=seed, threshold=threshold, correlated=correlated, series=series
    )
    return {
        "ess": ess,
        "pareto_k": pareto_tail_index(log_w),
        "ess_fraction": ess / n,
        "ess_required": threshold.required(n),
        "log_z": log_z.as_dict(),
    }
