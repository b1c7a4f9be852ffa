"""One JKO step: fit a convex potential whose gradient map minimises the proximal objective."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from .derivatives import gradient
from .functionals import StepBatch

__all__ = ["StepSettings", "jko_loss", "map_and_logdet", "cloud_objective", "train_step"]

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
        affine_lr_scale: Learning rate of the potential's affine part (the quadratic
            residual's :math:`L` and :math:`c`, see ``affine_parameters``) relative to
            ``learning_rate``. Adam moves every parameter by about the learning rate per
            update, so at 1 the whole-cloud shift and scaling outrun the network's features;
            below 1 the features can form a jump of the map before the affine part moves
            the whole cloud.
        restarts: Most fits per step: :class:`~molgen.jko.flow.JKOFlow` fits again while no
            fit has a lower :func:`cloud_objective` than both its starting map and the
            identity map, and keeps the lowest.
        restart_tolerance: A fit within this much above the lower of those two objectives
            (the functional's units) is accepted: near equilibrium good fits tie the
            identity map to within optimisation noise.
    """

    step_size: float = 0.05
    iterations: int = 500
    learning_rate: float = 5e-3
    batch_size: int | None = None
    anneal: bool = True
    affine_lr_scale: float = 1.0
    restarts: int = 1
    restart_tolerance: float = 0.0


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
    batch = _step_batch(potential, x, log_density, logdet, functional)
    transport = (batch.y - batch.x).square().sum(-1).mean() / (2 * step_size)
    return functional(batch) + transport


def map_and_logdet(
    potential: nn.Module, x: Tensor, logdet: LogDet, create_graph: bool = True
) -> tuple[Tensor, Tensor]:
    r"""Returns :math:`\nabla u(x)` ``(B, D)`` and :math:`\log\det\nabla^2 u(x)` ``(B,)``.

    One pass where the backend has ``map_and_logdet`` (the exact backend on input-convex
    networks), otherwise an autograd gradient handed to the backend.

    Arguments:
        potential: Convex network :math:`u`.
        x: Points, shape ``(B, D)``.
        logdet: Log-determinant backend, ``(x, grad) -> (B,)``.
        create_graph: Keep the graph to the potential's parameters; without it the results
            are detached.
    """
    one_pass = getattr(logdet, "map_and_logdet", None)
    if one_pass is not None:
        return one_pass(potential, x, create_graph=create_graph)
    leaf, y = gradient(potential, x)
    values = logdet(leaf, y)
    return (y, values) if create_graph else (y.detach(), values.detach())


def _step_batch(
    potential: nn.Module,
    x: Tensor,
    log_density: Tensor,
    logdet: LogDet,
    functional: Callable[[StepBatch], Tensor],
) -> StepBatch:
    r"""Maps ``x`` by :math:`\nabla u` and adds the log-determinants the functional needs."""
    if not getattr(functional, "needs_logdet", False):
        return StepBatch(x.detach(), gradient(potential, x)[1], log_density, None)
    y, logdets = map_and_logdet(potential, x, logdet)
    return StepBatch(x.detach(), y, log_density, logdets)


def cloud_objective(
    potential: nn.Module,
    particles: Tensor,
    log_density: Tensor,
    functional: Callable[[StepBatch], Tensor],
    logdet: LogDet,
    step_size: float,
    chunk_size: int = 4096,
) -> float:
    """Returns the JKO objective of :func:`jko_loss` on the whole cloud, in chunks.

    Exact for functionals that are means over particles (potential energy, entropy); the
    value is ``inf`` when a log-determinant is ``-inf`` (a map that is not invertible) and
    ``nan`` propagates. Used to pick the best of several fits of one step.

    Arguments:
        potential: Convex network :math:`u`.
        particles: Cloud of :math:`\\rho_k`, shape ``(N, D)``.
        log_density: :math:`\\log\\rho_k` at the particles, shape ``(N,)``.
        functional: Energy functional of a :class:`StepBatch` (a mean over particles).
        logdet: Log-determinant backend, ``(x, grad) -> (N,)``.
        step_size: :math:`\\tau`.
        chunk_size: Particles per evaluation, at most (unless that would leave a chunk of
            one); the cloud is cut into chunks of equal size (within one), so that no
            chunk is a lone particle.
    """
    chunks = max(1, min(-(-len(particles) // chunk_size), len(particles) // 2))
    total = 0.0
    pieces = zip(particles.tensor_split(chunks), log_density.tensor_split(chunks), strict=True)
    for x, log_rho in pieces:
        value = jko_loss(potential, x, log_rho, functional, logdet, step_size)
        total += value.item() * len(x)
    return total / len(particles)


def _parameter_groups(potential: nn.Module, settings: StepSettings) -> list[dict[str, Any]]:
    """Adam parameter groups: the affine part at ``affine_lr_scale`` times the learning rate."""
    affine = list(potential.affine_parameters()) if hasattr(potential, "affine_parameters") else []
    if settings.affine_lr_scale == 1.0 or not affine:
        return [{"params": list(potential.parameters())}]
    affine_ids = {id(parameter) for parameter in affine}
    rest = [parameter for parameter in potential.parameters() if id(parameter) not in affine_ids]
    return [
        {"params": rest},
        {"params": affine, "lr": settings.learning_rate * settings.affine_lr_scale},
    ]


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
    optimizer = torch.optim.Adam(_parameter_groups(potential, settings), lr=settings.learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, settings.iterations)
    losses = []
    for _ in range(settings.iterations):
        if settings.batch_size is None or settings.batch_size >= len(particles):
            x, log_rho = particles, log_density
        else:
            index = torch.randperm(len(particles), device=particles.device)[: settings.batch_size]
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
