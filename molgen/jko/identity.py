"""Initialisation of a convex potential to the identity map."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .derivatives import gradient

__all__ = ["fit_identity"]


def fit_identity(
    potential: nn.Module,
    samples: Tensor,
    iterations: int = 1000,
    learning_rate: float = 1e-2,
    tolerance: float = 1e-5,
) -> float:
    r"""Trains :math:`u` so that :math:`\nabla u(x) \approx x` on ``samples``.

    Minimises the mean of :math:`\|\nabla u(x) - x\|^2` with Adam, clamping the
    non-negative weights after every update, until it falls below ``tolerance``.

    References:
        | Large-Scale Wasserstein Gradient Flows (Mokrov et al., 2021), §4.1

    Arguments:
        potential: Input-convex network with a ``clamp_weights`` method.
        samples: Points on which the identity is fitted, shape ``(N, D)``.
        iterations: Maximum number of Adam updates.
        learning_rate: Adam learning rate.
        tolerance: Mean squared error at which to stop.

    Returns:
        The mean squared error of the returned potential.
    """
    optimizer = torch.optim.Adam(potential.parameters(), lr=learning_rate)
    for iteration in range(iterations + 1):
        x, grad = gradient(potential, samples)
        error = (grad - x).square().sum(-1).mean()
        if error.item() < tolerance or iteration == iterations:
            break
        optimizer.zero_grad()
        error.backward()
        optimizer.step()
        potential.clamp_weights()
    return error.item()
