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

from forcefields.geometry import Vectors, dihedrals, scatter_add
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
        grids = parameters.grids if self.count else np.zeros((0, 1, 1))
        coefficients = np.stack([bicubic_coefficients(g) for g in grids]) if self.count else grids
        self.register_buffer(
            "coefficients", torch.as_tensor(np.asarray(coefficients, dtype=np.float64))
        )

    def _cell(self, angle: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Cell index ``(T, B)`` and fractional position in it for angles in (-π, π]."""
        spacing = 2.0 * math.pi / self.resolution
        scaled = torch.remainder(angle + math.pi, 2.0 * math.pi) / spacing
        cell = scaled.detach().floor().clamp(0, self.resolution - 1)
        return cell.long(), scaled - cell

    def _energy_and_slopes(self, phi: torch.Tensor, psi: torch.Tensor):
        """Energy and its derivatives in φ and ψ, each ``(T, B)``."""
        spacing = 2.0 * math.pi / self.resolution
        cell_a, u = self._cell(phi)
        cell_b, v = self._cell(psi)
        c = self.coefficients[self.map_index[:, None], cell_a, cell_b]
        one = torch.ones_like(u)
        powers_u = torch.stack([one, u, u * u, u * u * u], dim=-1)
        powers_v = torch.stack([one, v, v * v, v * v * v], dim=-1)
        slopes_u = torch.stack([torch.zeros_like(u), one, 2.0 * u, 3.0 * u * u], dim=-1)
        slopes_v = torch.stack([torch.zeros_like(v), one, 2.0 * v, 3.0 * v * v], dim=-1)
        along_v = torch.einsum("tbkl,tbl->tbk", c, powers_v)
        energy = (powers_u * along_v).sum(-1)
        slope_phi = (slopes_u * along_v).sum(-1) / spacing
        slope_psi = torch.einsum("tbk,tbkl,tbl->tb", powers_u, c, slopes_v) / spacing
        return energy, slope_phi, slope_psi

    def evaluate(self, xt: Vectors, gradient: Vectors | None = None) -> torch.Tensor:
        if self.count == 0:
            return self.zero_energy(xt)
        first = (self.atom0, self.atom1, self.atom2, self.atom3)
        second = (self.atom4, self.atom5, self.atom6, self.atom7)
        if gradient is None:
            energy, _, _ = self._energy_and_slopes(dihedrals(xt, *first), dihedrals(xt, *second))
            return energy.sum(0)
        phi, phi_derivatives = dihedrals(xt, *first, with_derivative=True)
        psi, psi_derivatives = dihedrals(xt, *second, with_derivative=True)
        energy, slope_phi, slope_psi = self._energy_and_slopes(phi, psi)
        for atoms, derivatives, slope in (
            (first, phi_derivatives, slope_phi),
            (second, psi_derivatives, slope_psi),
        ):
            for atom, derivative in zip(atoms, derivatives, strict=True):
                scatter_add(gradient, atom, derivative, slope)
        return energy.sum(0)
