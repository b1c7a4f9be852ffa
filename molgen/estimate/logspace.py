"""Log-space reductions of importance weights, stable for log weights of any magnitude."""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from forcefields.errors import ConfigError

__all__ = ["as_log_weights", "log_mean_exp", "normalized_weights"]


def as_log_weights(
    log_w: np.ndarray | None, n: int | None = None, name: str = "log_w"
) -> np.ndarray:
    """``log_w`` as a float64 vector ``(n,)``; ``None`` means equal weights (zeros ``(n,)``).

    Raises:
        ConfigError: not one-dimensional, empty, or holding NaN / ``+inf``
            (``-inf`` is allowed: a sample with zero weight).
    """
    if log_w is None:
        if n is None:
            raise ConfigError(f"{name}: give log weights or a sample count")
        return np.zeros(n)
    values = np.asarray(log_w, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ConfigError(f"{name}: expected a non-empty vector, got shape {values.shape}")
    if np.isnan(values).any() or np.isposinf(values).any():
        raise ConfigError(f"{name}: NaN or +inf log weight")
    if np.isneginf(values).all():
        raise ConfigError(f"{name}: every weight is zero")
    if n is not None and values.size != n:
        raise ConfigError(f"{name}: {values.size} log weights for {n} samples")
    return values


def log_mean_exp(values: np.ndarray, axis: int = -1) -> np.ndarray | float:
    """``log(mean(exp(values)))`` along ``axis``, without overflow."""
    values = np.asarray(values, dtype=np.float64)
    return logsumexp(values, axis=axis) - np.log(values.shape[axis])


def normalized_weights(log_w: np.ndarray) -> np.ndarray:
    """Self-normalised weights ``w_i / Σ_j w_j`` ``(n,)`` from log weights ``(n,)`` (sum 1)."""
    log_w = as_log_weights(log_w)
    return np.exp(log_w - logsumexp(log_w))
