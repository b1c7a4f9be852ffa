"""Standard errors from influence terms (the delta method), optionally for correlated series.

A ratio estimator built from weighted sums, such as a self-normalised mean, is to first
order ``θ̂ − θ ≈ Σ_i ψ_i`` with influence terms ``ψ_i`` that sum to zero. For independent
samples ``Var θ̂ ≈ Σ_i ψ_i²``. For a time series (MD or parallel tempering) the terms are
correlated and the variance grows by the statistical inefficiency ``g`` of the series
``ψ`` (``pymbar.timeseries``, through :mod:`systems.reference.timeseries`).
"""

from __future__ import annotations

import numpy as np

from systems.reference.timeseries import statistical_inefficiency

__all__ = ["influence_stderr"]


def influence_stderr(influence: np.ndarray, correlated: bool = False) -> float:
    """Standard error ``sqrt(g Σ ψ_i²)`` from influence terms ``ψ`` ``(n,)`` in sample order.

    Arguments:
        influence: first-order contribution of each sample to the estimator's error.
        correlated: the samples are a time series; multiply the variance by the
            statistical inefficiency ``g ≥ 1`` of ``ψ`` (otherwise ``g = 1``).
    """
    influence = np.asarray(influence, dtype=np.float64)
    g = statistical_inefficiency(influence) if correlated else 1.0
    return float(np.sqrt(max(g, 1.0) * np.sum(influence**2)))
