"""Barenblatt profiles of the porous-medium equation and other steady states."""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "Barenblatt",
    "porous_fokker_planck_steady_state",
    "aggregation_steady_state",
    "AGGREGATION_STEADY_ENERGY",
]

AGGREGATION_STEADY_ENERGY = 3 / 8 + math.log(2) / 4
"""Interaction energy of :func:`aggregation_steady_state` for :math:`W = |x|^2/2 - \\log|x|`."""


def _ball_integral(constant: float, k: float, dim: int, power: float) -> float:
    r""":math:`\int (C - k\|z\|^2)_+^p\,dz` over :math:`\mathbb R^d`."""
    gamma_ratio = math.exp(math.lgamma(power + 1) - math.lgamma(power + 1 + dim / 2))
    return constant ** (power + dim / 2) * (math.pi / k) ** (dim / 2) * gamma_ratio


class Barenblatt:
    r"""Barenblatt solution of :math:`\partial_t\rho = \Delta\rho^m`.

    :math:`\rho(x, t) = s^{-\alpha}(C - k\|x\|^2 s^{-2\alpha/d})_+^{1/(m-1)}` with
    :math:`s = t + t_0`, :math:`\alpha = d/(d(m-1)+2)` and :math:`k = \alpha(m-1)/(2md)`.
    The constant :math:`C` is chosen for unit mass ((3/64)^{1/3} for d = 1, m = 2).

    Arguments:
        dim: Dimension :math:`d`.
        exponent: :math:`m > 1`.
        time_offset: :math:`t_0 > 0`.

    Example:
        >>> profile = Barenblatt(dim=1, exponent=2.0, time_offset=1.0)
        >>> round(profile.constant, 6), round(profile.energy(0.0), 5)
        (0.360562, 0.28845)
    """

    def __init__(self, dim: int = 1, exponent: float = 2.0, time_offset: float = 1e-3):
        self.dim = dim
        self.exponent = exponent
        self.time_offset = time_offset
        self.alpha = dim / (dim * (exponent - 1) + 2)
        self.k = self.alpha * (exponent - 1) / (2 * exponent * dim)
        mass_at_unit_constant = _ball_integral(1.0, self.k, dim, 1 / (exponent - 1))
        self.constant = mass_at_unit_constant ** (-1 / (1 / (exponent - 1) + dim / 2))

    def radius(self, time: float) -> float:
        """Support radius at ``time``."""
        return math.sqrt(self.constant / self.k) * (time + self.time_offset) ** (
            self.alpha / self.dim
        )

    def density(self, x: Tensor, time: float) -> Tensor:
        """:math:`\\rho(x, t)`, shape ``(n,)``, for ``x`` of shape ``(n, d)``."""
        s = time + self.time_offset
        inner = self.constant - self.k * x.square().sum(-1) * s ** (-2 * self.alpha / self.dim)
        return s ** (-self.alpha) * inner.clamp_min(0.0) ** (1 / (self.exponent - 1))

    def log_prob(self, x: Tensor, time: float = 0.0) -> Tensor:
        """:math:`\\log\\rho(x, t)`, shape ``(n,)`` (``-inf`` outside the support)."""
        return self.density(x, time).log()

    def energy(self, time: float) -> float:
        """:math:`\\int\\rho^m\\,dx` at ``time``, exactly."""
        power = self.exponent / (self.exponent - 1)
        s = time + self.time_offset
        return _ball_integral(self.constant, self.k, self.dim, power) * s ** (
            -self.alpha * (self.exponent - 1)
        )

    def sample(self, n: int, time: float = 0.0) -> Tensor:
        """Draws ``n`` points of :math:`\\rho(\\cdot, t)`, ``(n, d)``: the support radius
        times points of the unit ball drawn by rejection from
        :math:`(1 - \\|u\\|^2)_+^{1/(m-1)}`, the profile's shape at every time. The
        acceptance test never forms the density's powers of :math:`t + t_0`, which
        overflow float32 for a small :math:`t_0` (every proposal was then refused)."""
        accepted: list[Tensor] = []
        count = 0
        while count < n:
            direction = torch.randn(4 * n, self.dim)
            direction = direction / direction.norm(dim=-1, keepdim=True)
            unit = direction * torch.rand(4 * n, 1) ** (1 / self.dim)
            shape = (1 - unit.square().sum(-1)).clamp_min(0.0) ** (1 / (self.exponent - 1))
            keep = torch.rand(4 * n) < shape
            accepted.append(unit[keep])
            count += int(keep.sum())
        return self.radius(time) * torch.cat(accepted)[:n]


def porous_fokker_planck_steady_state(x: Tensor) -> Tensor:
    r"""Unit-mass steady state of :math:`\partial_t\rho = \nabla\cdot(\rho\nabla V) + \Delta\rho^2`
    with :math:`V = x^2` in one dimension: :math:`(C - x^2/2)_+` with :math:`C = (9/32)^{1/3}`.

    Its free energy :math:`\int V\rho + \int\rho^2` is
    :math:`\frac85\sqrt{2C}\,C^2 \approx 0.786222`.
    """
    return ((9 / 32) ** (1 / 3) - 0.5 * x.square().sum(-1)).clamp_min(0.0)


def aggregation_steady_state(x: Tensor) -> Tensor:
    r"""Steady state :math:`\frac1\pi\sqrt{(2 - x^2)_+}` of aggregation with
    :math:`W = \frac12|x|^2 - \log|x|` in one dimension; ``x`` has shape ``(n, 1)``."""
    return (2 - x.square().sum(-1)).clamp_min(0.0).sqrt() / math.pi
