"""Particle baseline for Fokker-Planck: Euler-Maruyama (unadjusted Langevin)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["euler_maruyama", "potential_gradient"]


def potential_gradient(potential: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    """Returns :math:`x \\mapsto \\nabla V(x)` by autograd, ``(n, D) -> (n, D)``."""

    def grad(x: Tensor) -> Tensor:
        with torch.enable_grad():
            leaf = x.detach().requires_grad_(True)
            return torch.autograd.grad(potential(leaf).sum(), leaf)[0]

    return grad


def euler_maruyama(
    drift_gradient: Callable[[Tensor], Tensor],
    particles: Tensor,
    time: float,
    time_step: float = 1e-3,
    temperature: float = 1.0,
) -> Tensor:
    r"""Simulates :math:`dX = -\nabla V(X)\,dt + \sqrt{2\beta^{-1}}\,dW` up to ``time``.

    Arguments:
        drift_gradient: :math:`\nabla V`, ``(n, D) -> (n, D)``.
        particles: Initial particles, shape ``(n, D)``.
        time: Final time.
        time_step: Integration step :math:`\Delta t`.
        temperature: :math:`\beta^{-1}`.

    Returns:
        The particles at ``time``, shape ``(n, D)``.
    """
    steps = max(1, round(time / time_step))
    dt = time / steps
    noise_scale = math.sqrt(2 * temperature * dt)
    x = particles.clone()
    for _ in range(steps):
        x = x - dt * drift_gradient(x) + noise_scale * torch.randn_like(x)
    return x
