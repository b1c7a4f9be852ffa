"""Internal energies :math:`\\int f(\\rho)`: entropy, porous medium and general convex f."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .functionals import StepBatch

__all__ = ["InternalEnergy", "entropy", "porous_medium"]


class InternalEnergy:
    r"""Internal energy :math:`\mathcal F(\rho) = \int f(\rho)\,dx = \mathbb E_\rho[f(\rho)/\rho]`.

    The function is given as :math:`g(r) = f(e^r)\,e^{-r}`, the energy per unit mass at
    log-density :math:`r`. With :math:`r = \log\rho_k(x) - \log\det\nabla^2u_\theta(x)`, the
    loss is the stop-gradient surrogate

    .. math:: \mathbb E[\mathrm{SG}\,g(r)] - \mathbb E[\mathrm{SG}\,g'(r)\,
              (\log\det\nabla^2 u_\theta - \mathrm{SG}\log\det\nabla^2 u_\theta)],

    whose value is :math:`\mathcal F(\rho_{k+1})` and whose gradient is exact, because
    :math:`g'(r) = P(\rho)/\rho` with the pressure :math:`P(\rho) = \rho f'(\rho) - f(\rho)`.
    With the stochastic backend only a :math:`g` linear in :math:`r` (entropy) stays
    unbiased: the probe noise of the log-determinant enters a nonlinear :math:`g` and
    :math:`g'` through their curvature (Jensen), so the porous medium needs the exact one.

    References:
        | Optimizing Functionals on the Space of Probabilities with Input Convex Neural
          Networks (Alvarez-Melis et al., 2021), Lemma 3.4, eq. 12 and App. B.3

    Arguments:
        energy_per_mass: :math:`g`, elementwise on log-densities.
        weight: Factor multiplying the energy (the temperature :math:`\beta^{-1}` for
            entropy).

    Example:
        >>> energy = InternalEnergy(lambda r: r)  # negative entropy
        >>> x = torch.zeros(2, 1)
        >>> batch = StepBatch(x, x, log_density=torch.zeros(2), logdet=torch.full((2,), 0.5))
        >>> energy(batch)
        tensor(-0.5000)
    """

    needs_logdet = True

    def __init__(self, energy_per_mass: Callable[[Tensor], Tensor], weight: float = 1.0):
        self.energy_per_mass = energy_per_mass
        self.weight = weight

    def pressure_per_mass(self, log_density: Tensor) -> Tensor:
        """:math:`g'(r) = P(\\rho)/\\rho` at log-densities ``r``, same shape, no gradient."""
        with torch.enable_grad():
            r = log_density.detach().requires_grad_(True)
            return torch.autograd.grad(self.energy_per_mass(r).sum(), r)[0]

    def __call__(self, batch: StepBatch) -> Tensor:
        log_density = batch.log_density - batch.logdet.detach()
        value = self.energy_per_mass(log_density).detach()
        fluctuation = batch.logdet - batch.logdet.detach()
        surrogate = value - self.pressure_per_mass(log_density) * fluctuation
        return self.weight * surrogate.mean()


def entropy(temperature: float = 1.0) -> InternalEnergy:
    r"""Negative entropy times temperature, :math:`\beta^{-1}\int\rho\log\rho`."""
    return InternalEnergy(lambda r: r, weight=temperature)


def porous_medium(exponent: float, weight: float = 1.0) -> InternalEnergy:
    r"""Porous-medium energy :math:`\frac{1}{m-1}\int\rho^m` (diffusion :math:`\Delta\rho^m`)."""
    if exponent <= 1:
        raise ValueError(f"porous-medium exponent must exceed 1, got {exponent}")
    return InternalEnergy(lambda r: torch.exp((exponent - 1) * r) / (exponent - 1), weight=weight)
