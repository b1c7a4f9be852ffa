"""CMAP: a 2-D correction map over two consecutive backbone dihedrals (φ, ψ).

Interpolation as in CHARMM and OpenMM: the derivatives at grid points come from
periodic cubic splines through the grid (∂/∂φ and ∂/∂ψ along each axis; the
cross derivative by a spline along φ through ∂/∂ψ), and each grid cell is a
bicubic Hermite patch matching values, first and cross derivatives at its four
corners. The surface is C¹ and periodic.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.interpolate import CubicSpline

from forcefields.geometry import dihedrals
from forcefields.parameters import CmapParameters
from forcefields.terms.base import EnergyTerm

__all__ = ["CmapTorsions", "bicubic_coefficients"]

_HERMITE = np.array(
    [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [-3.0, 3.0, -2.0, -1.0], [2.0, -2.0, 1.0, 1.0]]
)


def _periodic_spline_derivative(values: np.ndarray, axis: int) -> np.ndarray:
    """dE/dangle at the grid points of a periodic grid along ``axis`` (spacing 2π/n)."""
    n = values.shape[axis]
    knots = np.arange(n + 1) * (2.0 * math.pi / n)
    closed = np.concatenate([values, np.take(values, [0], axis=axis)], axis=axis)
    spline = CubicSpline(knots, closed, axis=axis, bc_type="periodic")
    return spline(knots[:-1], 1)


def bicubic_coefficients(grid: np.ndarray) -> np.ndarray:
    """Polynomial coefficients of every cell of one periodic map.

    Arguments:
        grid: ``(n, n)`` energies, axis 0 the first angle, axis 1 the second.

    Returns:
        ``(n, n, 4, 4)`` coefficients ``c`` such that in cell ``(a, b)`` the energy
        is ``Σ_kl c[a, b, k, l] u^k v^l`` with ``u, v ∈ [0, 1)`` the fractional
        positions in the cell.
    """
    n = grid.shape[0]
    spacing = 2.0 * math.pi / n
    d_first = _periodic_spline_derivative(grid, axis=0)
    d_second = _periodic_spline_derivative(grid, axis=1)
    d_cross = _periodic_spline_derivative(d_second, axis=0)

    def corners(values: np.ndarray) -> np.ndarray:
        """``(n, n, 2, 2)``: the value at corners (a+i, b+j) of each cell."""
        shifted_a = np.roll(values, -1, axis=0)
        return np.stack(
            [
                np.stack([values, np.roll(values, -1, axis=1)], axis=-1),
                np.stack([shifted_a, np.roll(shifted_a, -1, axis=1)], axis=-1),
            ],
            axis=-2,
        )

    f = corners(grid)
    fu = corners(d_first) * spacing
    fv = corners(d_second) * spacing
    fuv = corners(d_cross) * spacing**2
    hermite_data = np.concatenate(
        [np.concatenate([f, fv], axis=-1), np.concatenate([fu, fuv], axis=-1)], axis=-2
    )
    return np.einsum("ki,abij,lj->abkl", _HERMITE, hermite_data, _HERMITE)


class CmapTorsions(EnergyTerm):
    """Sum of CMAP corrections over (φ, ψ) torsion pairs.

    Arguments:
        parameters: the maps and torsion pairs (see :class:`CmapParameters`).

    The derivative is bounded (a smooth periodic surface), so the term is never
    clipped.
    """

    def __init__(self, parameters: CmapParameters):
        super().__init__()
        self.count = len(parameters.map_index)
        self.resolution = parameters.grids.shape[1]
        self.add_indices("atom", parameters.indices)
        self.register_buffer("map_index", torch.as_tensor(parameters.map_index.copy()))
        coefficients = (
            np.stack([bicubic_coefficients(g) for g in parameters.grids])
            if self.count
            else np.zeros((0, 1, 1, 4, 4))
        )
        self.add_parameter("coefficients", coefficients)

    def _cell(self, angle: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Cell index ``(B, T)`` and fractional position in it for angles in (-π, π]."""
        spacing = 2.0 * math.pi / self.resolution
        scaled = torch.remainder(angle + math.pi, 2.0 * math.pi) / spacing
        cell = scaled.detach().floor().clamp(0, self.resolution - 1)
        return cell.long(), scaled - cell

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.count == 0:
            return self.empty_energy(x)
        phi = dihedrals(x, self.atom0, self.atom1, self.atom2, self.atom3)
        psi = dihedrals(x, self.atom4, self.atom5, self.atom6, self.atom7)
        cell_a, u = self._cell(phi)
        cell_b, v = self._cell(psi)
        c = self.coefficients[self.map_index, cell_a, cell_b]
        powers_u = torch.stack([torch.ones_like(u), u, u * u, u * u * u], dim=-1)
        powers_v = torch.stack([torch.ones_like(v), v, v * v, v * v * v], dim=-1)
        return torch.einsum("btk,btkl,btl->b", powers_u, c, powers_v)
