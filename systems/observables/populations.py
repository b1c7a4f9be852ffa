"""Populations of discrete modes, optionally with importance weights."""

from __future__ import annotations

import torch

from forcefields.errors import ConfigError, ShapeMismatchError
from systems.observables._arrays import ArrayLike, like, to_torch

__all__ = ["mode_fractions"]


def mode_fractions(labels: ArrayLike, n_modes: int, weights: ArrayLike | None = None) -> ArrayLike:
    """Fraction of samples (or of total weight) in each mode, shape ``(n_modes,)``.

    Arguments:
        labels: integer mode labels in ``[0, n_modes)``, any shape.
        n_modes: number of modes; modes without samples get 0.
        weights: non-negative weights of the same shape (e.g. importance weights
            ``p_B / p_G``, not their logarithms); ``None`` weighs samples equally.

    Returns float64 fractions summing to 1 (the weights' dtype for float32
    tensors), as numpy or torch like ``labels``.
    """
    flat = to_torch(labels).reshape(-1)
    if flat.dtype.is_floating_point or flat.dtype.is_complex or flat.dtype == torch.bool:
        raise ConfigError(f"mode_fractions labels: integer labels expected, got {flat.dtype}")
    flat = flat.to(torch.int64)
    if flat.numel() and (flat.min() < 0 or flat.max() >= n_modes):
        raise ConfigError(f"mode_fractions labels: values outside [0, {n_modes})")
    if weights is None:
        counts = torch.bincount(flat, minlength=n_modes).to(torch.float64)
    else:
        weight = to_torch(weights).to(flat.device)
        if weight.shape != to_torch(labels).shape:
            raise ShapeMismatchError(
                f"mode_fractions weights: shape {tuple(weight.shape)}, "
                f"labels {tuple(to_torch(labels).shape)}"
            )
        if not (torch.isfinite(weight).all() and (weight >= 0).all()):
            raise ConfigError("mode_fractions weights: every weight must be finite and >= 0")
        counts = torch.zeros(n_modes, dtype=weight.dtype, device=weight.device)
        counts = counts.index_add(0, flat, weight.reshape(-1))
    total = counts.sum()
    if total <= 0:
        raise ConfigError("mode_fractions: no samples (or zero total weight)")
    return like(counts / total, labels)
