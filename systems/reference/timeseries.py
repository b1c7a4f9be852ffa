"""Correlation analysis of sampled time series, built on ``pymbar.timeseries``.

A series is an array ``(T,)`` (one chain) or ``(C, T)`` (``C`` independent chains of the
same process, e.g. the chains of the torch sampler). With several chains the correlation
function is estimated from fluctuations about the pooled mean
(``pymbar.timeseries.statistical_inefficiency_multiple``), so chains that disagree with
each other show up as a long correlation time instead of being averaged away.
"""

from __future__ import annotations

import numpy as np
from pymbar import timeseries

__all__ = [
    "as_chains",
    "statistical_inefficiency",
    "effective_sample_count",
    "equilibration_start",
    "decorrelated_indices",
]

_EQUILIBRATION_SCAN_POINTS = 200


def as_chains(series: np.ndarray) -> np.ndarray:
    """View ``(T,)`` or ``(C, T)`` data as float64 ``(C, T)``."""
    array = np.asarray(series, dtype=np.float64)
    if array.ndim == 1:
        return array[None]
    if array.ndim != 2:
        raise ValueError(f"expected a series (T,) or chains (C, T), got shape {array.shape}")
    return array


def statistical_inefficiency(series: np.ndarray) -> float:
    """Statistical inefficiency ``g = 1 + 2 τ_int`` (in frames) of ``(T,)`` or ``(C, T)`` data.

    A series without fluctuations carries no information about its correlation and gets
    ``g = 1``.
    """
    chains = as_chains(series)
    if chains.shape[1] < 2 or np.ptp(chains) == 0.0:
        return 1.0
    if chains.shape[0] == 1:
        return float(timeseries.statistical_inefficiency(chains[0]))
    return float(timeseries.statistical_inefficiency_multiple(list(chains)))


def effective_sample_count(series: np.ndarray, inefficiency: float | None = None) -> float:
    """Number of effectively independent samples ``C T / g`` of ``(T,)`` or ``(C, T)`` data."""
    chains = as_chains(series)
    g = statistical_inefficiency(chains) if inefficiency is None else inefficiency
    return chains.size / g


def equilibration_start(series: np.ndarray) -> int:
    """First frame of the equilibrated part of ``(T,)`` or ``(C, T)`` data.

    The start ``t`` that maximises the effective sample count ``C (T - t) / g(t)``, ``g(t)``
    the statistical inefficiency of the chains pooled from ``t`` on
    (:func:`statistical_inefficiency`), scanning about 200 candidate starts: the criterion
    of ``pymbar.timeseries.detect_equilibration``, applied to all chains at once, so that
    all are cut at the same frame. The latest of the chains' own starts, used before,
    was set by the noisiest of them and cut 30–75 % of stationary 32-chain series; a
    transient of all chains or of one is found either way.
    """
    chains = as_chains(series)
    n_frames = chains.shape[1]
    if n_frames < 3:
        return 0
    skip = max(1, n_frames // _EQUILIBRATION_SCAN_POINTS)
    candidates = range(0, n_frames - 2, skip)
    effective = [chains[:, t:].size / statistical_inefficiency(chains[:, t:]) for t in candidates]
    return int(candidates[int(np.argmax(effective))])


def decorrelated_indices(n_frames: int, inefficiency: float) -> np.ndarray:
    """Frame indices about ``g`` apart (``pymbar.timeseries.subsample_correlated_data``)."""
    if n_frames == 0:
        return np.zeros(0, dtype=np.int64)
    placeholder = np.zeros(n_frames)
    indices = timeseries.subsample_correlated_data(placeholder, g=max(inefficiency, 1.0))
    return np.asarray(indices, dtype=np.int64)
