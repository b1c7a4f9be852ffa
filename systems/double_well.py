"""Double-well targets of the thesis (§4.4): one bimodal coordinate plus Gaussian ones.

The energy of a point ``x`` of shape ``(B, D)`` is dimensionless (it is the reduced
energy at ``beta = 1``)::

    U(x) = u(x_0) + sum_{k >= 1} x_k^2 / (2 * std^2),    u(x_0) = x_0^4 - b x_0^2 + c x_0

and the target density at inverse temperature ``beta`` is ``exp(-beta * U(x)) / Z``.

The thesis gives no formula for ``u``; it reports only that the minor mode holds about
0.22 of the mass at temperature x1 and about 0.37 at x2. Here ``b = 4`` (minima near
``x_0 = ±sqrt(2)``, barrier about 4 at ``beta = 1``) and ``c = 0.480087``, found by
root-finding (``scipy.optimize.brentq``) on the quadrature fraction
``∫_0^∞ e^{-u} / ∫ e^{-u} = 0.22``. The minor mode is ``x_0 > 0`` (the side the tilt
``c > 0`` raises). At ``beta = 0.5`` this gives 0.357, not 0.37: within the tilted-quartic
family no choice of ``b`` gives more than about 0.357 once the ``beta = 1`` fraction is
pinned at 0.22 (the maximum, 0.3569, is near ``b = 3.87``).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
from scipy import integrate

from forcefields.errors import ShapeMismatchError

__all__ = [
    "QUARTIC_B",
    "QUARTIC_C",
    "DoubleWell",
    "bimodal_energy",
    "minor_mode_fraction",
    "bimodal_log_partition",
    "is_minor_mode",
    "sample_bimodal",
    "double_well_medium",
    "double_well_wide",
    "double_well_narrow",
    "double_well_2d",
    "DOUBLE_WELLS",
]

QUARTIC_B = 4.0
QUARTIC_C = 0.480087

_GRID_POINTS = 400_001
_TAIL_REDUCED_ENERGY = 60.0


def bimodal_energy(x0: torch.Tensor) -> torch.Tensor:
    """Tilted quartic ``u(x0) = x0^4 - b x0^2 + c x0`` (dimensionless), any shape."""
    return x0**4 - QUARTIC_B * x0**2 + QUARTIC_C * x0


def _bimodal_energy_numpy(x0: np.ndarray | float) -> np.ndarray | float:
    return x0**4 - QUARTIC_B * x0**2 + QUARTIC_C * x0


def _minimum_of_u() -> float:
    grid = np.linspace(-3.0, 3.0, 60_001)
    return float(_bimodal_energy_numpy(grid).min())


def _half_line_masses(beta: float) -> tuple[float, float]:
    """``∫ exp(-beta (u - min u))`` over ``x0 > 0`` and over ``x0 < 0`` (adaptive quadrature)."""
    shift = _minimum_of_u()

    def density(x: float) -> float:
        return math.exp(-beta * (_bimodal_energy_numpy(x) - shift))

    options = {"epsabs": 0.0, "epsrel": 1e-12, "limit": 400}
    minor = integrate.quad(density, 0.0, np.inf, **options)[0]
    major = integrate.quad(density, -np.inf, 0.0, **options)[0]
    return minor, major


def minor_mode_fraction(beta: float = 1.0) -> float:
    """Mass of the minor mode ``x0 > 0`` at inverse temperature ``beta`` (adaptive quadrature).

    The Gaussian coordinates factor out of the density, so only ``x0`` matters.
    """
    minor, major = _half_line_masses(beta)
    return minor / (minor + major)


def bimodal_log_partition(beta: float = 1.0) -> float:
    """``log ∫ exp(-beta u(x0)) dx0`` of the tilted quartic (adaptive quadrature)."""
    return math.log(sum(_half_line_masses(beta))) - beta * _minimum_of_u()


def is_minor_mode(x: torch.Tensor) -> torch.Tensor:
    """Boolean ``(B,)``: whether each point of ``x`` ``(B, D)`` is in the minor mode ``x0 > 0``."""
    return x[:, 0] > 0


def mode_labels(x: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
    """Integer labels ``(B,)`` (0 major, 1 minor) of points ``x`` ``(B, D)``, in the array
    type of ``x`` (a tensor for a tensor, NumPy otherwise), as the molecules' labels are."""
    if isinstance(x, torch.Tensor):
        return is_minor_mode(x).long()
    return is_minor_mode(np.asarray(x)).astype(np.int64)


@lru_cache(maxsize=16)
def _inverse_cdf_grid(beta: float) -> tuple[np.ndarray, np.ndarray]:
    """Grid and cumulative mass of ``exp(-beta u)`` out to ``beta (u - min u) = 60``."""
    shift = _minimum_of_u()
    half_width = 2.0
    while beta * (_bimodal_energy_numpy(-half_width) - shift) < _TAIL_REDUCED_ENERGY:
        half_width *= 1.25
    grid = np.linspace(-half_width, half_width, _GRID_POINTS)
    density = np.exp(-beta * (_bimodal_energy_numpy(grid) - shift))
    cumulative = integrate.cumulative_trapezoid(density, grid, initial=0.0)
    return grid, cumulative / cumulative[-1]


def sample_bimodal(
    n: int, beta: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Draw ``n`` values of ``x0`` from ``exp(-beta u) / Z`` by inverse CDF on a fine grid.

    The grid has 400001 points and ends where ``beta (u - min u) > 60``; the CDF (trapezoid
    rule) is interpolated linearly between grid points, so the sampled density is piecewise
    constant there (the mean of the two end points' densities). That sampling error is far
    below Monte-Carlo noise.
    Returns a float64 tensor of shape ``(n,)``.
    """
    grid, cumulative = _inverse_cdf_grid(float(beta))
    uniform = torch.rand(n, generator=generator, dtype=torch.float64).numpy()
    return torch.from_numpy(np.interp(uniform, cumulative, grid))


class DoubleWell(torch.nn.Module):
    r"""Double-well energy: a tilted quartic in ``x0`` plus centred Gaussian coordinates.

    References:
        Felardos (2022), thesis §4.4 (Double Well Medium / Wide / Narrow 12D and 2D).

    Arguments:
        dim: number of coordinates ``D`` (1 bimodal + ``D - 1`` Gaussian).
        gaussian_std: standard deviation of each Gaussian coordinate at ``beta = 1``.
        beta: inverse temperature used by :meth:`reduced_energy` and :meth:`sample`.

    Example:
        >>> well = DoubleWell(dim=12, gaussian_std=10.0)
        >>> x = well.sample(4, generator=torch.Generator().manual_seed(0))
        >>> well(x).shape
        torch.Size([4])
    """

    def __init__(self, dim: int, gaussian_std: float, beta: float = 1.0):
        super().__init__()
        self.dim = dim
        self.gaussian_std = gaussian_std
        self.beta = beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Dimensionless energy ``U(x)`` ``(B,)`` of points ``x`` ``(B, D)``.

        Raises:
            ShapeMismatchError: ``x`` is not ``(B, D)`` with this well's ``D``.
        """
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ShapeMismatchError(
                f"double well of dimension {self.dim}: expected points (B, {self.dim}), "
                f"got shape {tuple(x.shape)}"
            )
        gaussian = (x[:, 1:] ** 2).sum(dim=1) / (2.0 * self.gaussian_std**2)
        return bimodal_energy(x[:, 0]) + gaussian

    def reduced_energy(self, x: torch.Tensor) -> torch.Tensor:
        """``beta * U(x)`` ``(B,)``: the negative log of the unnormalised target density."""
        return self.beta * self(x)

    def minor_mode_fraction(self) -> float:
        """Mass of the minor mode at this well's ``beta`` (quadrature)."""
        return minor_mode_fraction(self.beta)

    def log_partition(self) -> float:
        """``log Z`` of ``exp(-beta U)`` over all ``D`` coordinates: the quartic's quadrature
        plus ``(D - 1) / 2 * log(2 pi std^2 / beta)`` for the Gaussian ones."""
        gaussian = 0.5 * (self.dim - 1) * math.log(2.0 * math.pi * self.gaussian_std**2 / self.beta)
        return bimodal_log_partition(self.beta) + gaussian

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Exact samples ``(n, D)`` (float64) from ``exp(-beta U) / Z``."""
        x0 = sample_bimodal(n, self.beta, generator)
        std = self.gaussian_std / math.sqrt(self.beta)
        rest = std * torch.randn(n, self.dim - 1, generator=generator, dtype=torch.float64)
        return torch.cat([x0[:, None], rest], dim=1)


def double_well_medium(beta: float = 1.0) -> DoubleWell:
    """12-D double well, 11 Gaussian coordinates of std 1."""
    return DoubleWell(12, 1.0, beta)


def double_well_wide(beta: float = 1.0) -> DoubleWell:
    """12-D double well, 11 Gaussian coordinates of std 10."""
    return DoubleWell(12, 10.0, beta)


def double_well_narrow(beta: float = 1.0) -> DoubleWell:
    """12-D double well, 11 Gaussian coordinates of std 0.1."""
    return DoubleWell(12, 0.1, beta)


def double_well_2d(beta: float = 1.0) -> DoubleWell:
    """2-D double well, 1 Gaussian coordinate of std 1."""
    return DoubleWell(2, 1.0, beta)


DOUBLE_WELLS = {
    "double_well_medium": double_well_medium,
    "double_well_wide": double_well_wide,
    "double_well_narrow": double_well_narrow,
    "double_well_2d": double_well_2d,
}
