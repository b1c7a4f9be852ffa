"""Energy functionals of a pushed-forward density, evaluated on a particle batch.

A JKO step pushes particles :math:`x \\sim \\rho_k` to :math:`y = \\nabla u_\\theta(x)`.
Each functional maps a :class:`StepBatch` to a scalar tensor whose value estimates
:math:`F((\\nabla u_\\theta)_\\#\\rho_k)` and whose gradient in :math:`\\theta` is the
gradient of that estimate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["StepBatch", "PotentialEnergy", "InteractionEnergy", "FreeEnergy"]


@dataclass
class StepBatch:
    """Particles of one JKO step.

    Attributes:
        x: Particles of :math:`\\rho_k`, shape ``(N, D)``.
        y: Pushed particles :math:`\\nabla u_\\theta(x)`, shape ``(N, D)``.
        log_density: :math:`\\log\\rho_k(x)`, shape ``(N,)``, no gradient.
        logdet: :math:`\\log\\det\\nabla^2 u_\\theta(x)`, shape ``(N,)``, or ``None`` when no
            functional needs it.
    """

    x: Tensor
    y: Tensor
    log_density: Tensor
    logdet: Tensor | None = None


class PotentialEnergy:
    r"""Potential energy :math:`\mathcal V(\rho) = \int V\, d\rho`.

    Arguments:
        potential: Batched callable :math:`V`, ``(N, D) -> (N,)``.
        weight: Factor multiplying the energy.

    Example:
        >>> energy = PotentialEnergy(lambda x: x.square().sum(-1))
        >>> y = torch.ones(3, 2)
        >>> energy(StepBatch(x=y, y=y, log_density=torch.zeros(3)))
        tensor(2.)
    """

    needs_logdet = False

    def __init__(self, potential: Callable[[Tensor], Tensor], weight: float = 1.0):
        self.potential = potential
        self.weight = weight

    def __call__(self, batch: StepBatch) -> Tensor:
        return self.weight * self.potential(batch.y).mean()


class InteractionEnergy:
    r"""Interaction energy :math:`\mathcal W(\rho) = \frac12\iint W(x-y)\,d\rho(x)\,d\rho(y)`.

    Estimated by the U-statistic over distinct pairs :math:`i \ne j`, so kernels singular at
    the origin (such as :math:`-\log|x|`) are allowed.

    References:
        | Optimizing Functionals on the Space of Probabilities with Input Convex Neural
          Networks (Alvarez-Melis et al., 2021), eq. 3 and Table 3

    Arguments:
        kernel: Batched callable :math:`W`, ``(P, D) -> (P,)``.
        weight: Factor multiplying the energy.

    Example:
        >>> energy = InteractionEnergy(lambda d: d.square().sum(-1))
        >>> y = torch.tensor([[0.0], [1.0]])
        >>> energy(StepBatch(x=y, y=y, log_density=torch.zeros(2)))
        tensor(0.5000)
    """

    needs_logdet = False

    def __init__(self, kernel: Callable[[Tensor], Tensor], weight: float = 1.0):
        self.kernel = kernel
        self.weight = weight

    def __call__(self, batch: StepBatch) -> Tensor:
        if len(batch.y) < 2:
            raise ValueError(
                f"InteractionEnergy: needs at least 2 particles to pair, got {len(batch.y)}"
            )
        first, second = torch.triu_indices(len(batch.y), len(batch.y), offset=1)
        differences = batch.y[first] - batch.y[second]
        symmetric = 0.5 * (self.kernel(differences) + self.kernel(-differences))
        return self.weight * 0.5 * symmetric.mean()


class FreeEnergy:
    """Sum of functionals, e.g. potential plus entropy for the Fokker-Planck equation.

    Arguments:
        terms: The functionals to add.

    Example:
        >>> from molgen.jko.internal_energy import entropy
        >>> free_energy = FreeEnergy([PotentialEnergy(lambda x: x.square().sum(-1)), entropy()])
        >>> free_energy.needs_logdet
        True
    """

    def __init__(self, terms: Sequence[Callable[[StepBatch], Tensor]]):
        self.terms = list(terms)
        self.needs_logdet = any(term.needs_logdet for term in self.terms)

    def __call__(self, batch: StepBatch) -> Tensor:
        return sum(term(batch) for term in self.terms)
