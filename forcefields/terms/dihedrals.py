"""Periodic proper dihedrals (several Fourier terms per quadruple)."""

from __future__ import annotations

import numpy as np
import torch

from forcefields.geometry import Vectors
from forcefields.terms.base import EnergyTerm
from forcefields.terms.torsions import dihedral_term

__all__ = ["PeriodicTorsions"]


class PeriodicTorsions(EnergyTerm):
    """``Σ k (1 + cos(n φ - δ))``, one row per Fourier term.

    Arguments:
        indices: ``(T, 4)`` atoms. k: ``(T,)`` kJ/mol. periodicity: ``(T,)`` integers n.
        phase: ``(T,)`` δ in rad.

    The derivative is bounded by ``k n``, so the term is never clipped.
    """

    def __init__(
        self, indices: np.ndarray, k: np.ndarray, periodicity: np.ndarray, phase: np.ndarray
    ):
        super().__init__()
        self.add_indices("atom", indices)
        self.add_parameter("k", k)
        self.add_parameter("periodicity", periodicity)
        self.add_parameter("phase", phase)
        self.count = len(k)

    def _energy_and_slope(self, phi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        argument = self.periodicity * phi - self.phase
        return self.k * (1.0 + torch.cos(argument)), -self.k * self.periodicity * torch.sin(
            argument
        )

    def evaluate(self, xt: Vectors, gradient: Vectors | None = None) -> torch.Tensor:
        if self.count == 0:
            return self.zero_energy(xt)
        atoms = (self.atom0, self.atom1, self.atom2, self.atom3)
        return dihedral_term(xt, atoms, self._energy_and_slope, gradient)
