"""One JKO step: fit a convex potential whose gradient map minimises the proximal objective."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .derivatives import gradient
from .functionals import StepBatch

__all__ = ["StepSettings", "jko_loss", "train_step"]

LogDet = Callable[[Tensor, Tensor], Tensor]


@dataclass
class StepSettings:
    """Optimisation settings of one JKO step.

    Attributes:
        step_size: JKO time step :math:`\\tau` (time units of the PDE).
        iterations: Adam updates per step.
        learning_rate: Adam learning rate.
        batch_size: Particles per update; ``None`` uses the whole cloud.
        anneal: Decay the learning rate to zero over the step (cosine schedule), which
            removes most of the minibatch noise from the final map.
    """

    step_size: float = 0.05
    iterations: int = 500
    learning_rate: float = 5e-3
    batch_size: int | None = None
    anneal: bool = True


def jko_loss(
    potential: nn.Module,
    x: Tensor,
    log_density: Tensor,
    functional: Callable[[StepBatch], Tensor],
    logdet: LogDet,
    step_size: float,
) -> Tensor:
    r"""Returns :math:`F((\nabla u)_\#\rho_k) + \frac{1}{2\tau}\mathbb E\|\nabla u(x) - x\|^2`.

    References:
        | Optimizing Functionals on the Space of Probabilities with Input Convex Neural
          Networks (Alvarez-Melis et al., 2021), eq. 9

    Arguments:
        potential: Convex network :math:`u`.
        x: Particles of :math:`\rho_k`, shape ``(N, D)``.
        log_density: :math:`\log\rho_k(x)`, shape ``(N,)``.
        functional: Energy functional of a :class:`StepBatch`.
        logdet: Log-determinant backend, ``(x, grad) -> (N,)``.
        step_size: :math:`\tau`.
    """
    x, y = gradient(potential, x)
    needs_logdet = getattr(functional, "needs_logdet", False)
    batch = StepBatch(x.detach(), y, log_density, logdet(x, y) if needs_logdet else None)
    transport = (y - batch.x).square().sum(-1).mean() / (2 * step_size)
    return functional(batch) + transport


def train_step(
    potential: nn.Module,
    particles: Tensor,
    log_density: Tensor,
    functional: Callable[[StepBatch], Tensor],
    logdet: LogDet,
    settings: StepSettings,
    progress: Callable[[float], None] | None = None,
) -> list[float]:
    """Trains ``potential`` in place on ``particles`` and returns the loss of every update.

    Arguments:
        potential: Convex network with a ``clamp_weights`` method.
        particles: Cloud of :math:`\\rho_k`, shape ``(N, D)``.
        log_density: :math:`\\log\\rho_k` at the particles, shape ``(N,)``.
        functional: Energy functional of a :class:`StepBatch`.
        logdet: Log-determinant backend, ``(x, grad) -> (N,)``.
        settings: Step size and optimisation settings.
        progress: Called with each loss (for progress bars).
    """
    optimizer = torch.optim.Adam(potential.parameters(), lr=settings.learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, settings.iterations)
    losses = []
    for _ in range(settings.iterations):
        if settings.batch_size is None or settings.batch_size >= len(particles):
            x, log_rho = particles, log_density
        else:
            index = torch.randperm(len(particles))[: settings.batch_size]
            x, log_rho = particles[index], log_density[index]
        loss = jko_loss(potential, x, log_rho, functional, logdet, settings.step_size)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if settings.anneal:
            schedule.step()
        potential.clamp_weights()
        losses.append(loss.item())
        if progress is not None:
            progress(losses[-1])
    return losses
