"""Shared pieces of the losses: detached points, log-ratios ``r = U_G - beta U_B``, weights."""

from __future__ import annotations

from collections.abc import Callable

import torch

from molgen.flows.flow import Flow
from molgen.losses.weights import batch_weights

__all__ = [
    "Energy",
    "detached_points",
    "log_ratio",
    "require_sample_count",
    "weighted_log_ratio",
]

Energy = Callable[[torch.Tensor], torch.Tensor]


def detached_points(flow: Flow, batch: int | torch.Tensor) -> torch.Tensor:
    """``x_G^‡`` ``(n, D)``: ``batch`` fresh samples of ``flow`` (if an int) or the given points.

    Either way the points carry no gradient (the thesis's detach, written ``‡``).
    """
    if isinstance(batch, int):
        with torch.no_grad():
            return flow.sample(batch)[0]
    return batch.detach()


def log_ratio(flow: Flow, beta_u_b: Energy, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``r(x) = U_G(x) - beta U_B(x)`` ``(n,)`` and ``U_G(x)`` ``(n,)`` at points ``x`` ``(n, D)``.

    ``r`` is ``log(p_B / p_G)`` up to the constant ``log Z_B`` (eq. 56, eq. 59).
    ``U_G`` comes from the inverse pass and is differentiable in the flow's parameters;
    ``beta U_B`` is evaluated without gradient.
    """
    u_g = flow.energy_of_generation(x)
    with torch.no_grad():
        reduced = beta_u_b(x).to(u_g.dtype)
    return u_g - reduced, u_g


def weighted_log_ratio(
    flow: Flow,
    beta_u_b: Energy,
    batch: int | torch.Tensor,
    weights: str,
    temperature: float,
    clamp: tuple[float, float],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(r, U_G, w)``, each ``(n,)``, on the detached points of ``batch``.

    ``r`` and ``U_G`` as in :func:`log_ratio` at :func:`detached_points`; ``w`` are the
    detached batch weights toward ``p_B`` summing to ``n`` (see
    :func:`~molgen.losses.weights.batch_weights` for ``weights``, ``temperature``, ``clamp``).
    """
    r, u_g = log_ratio(flow, beta_u_b, detached_points(flow, batch))
    return r, u_g, batch_weights(r, weights, temperature, clamp)


def require_sample_count(batch: int | torch.Tensor, loss: str) -> int:
    """The loss samples through the forward pass, so ``batch`` must be a count."""
    if not isinstance(batch, int):
        raise TypeError(f"{loss} samples its own points: pass the batch size n, not a tensor")
    return batch
