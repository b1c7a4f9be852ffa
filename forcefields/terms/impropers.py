"""Harmonic improper dihedrals."""

from __future__ import annotations

import math

import numpy as np
import torch

from forcefields.clipping import linearised_harmonic
from forcefields.geometry import Vectors
from forcefields.terms.base import EnergyTerm
from forcefields.terms.torsions import dihedral_term

__all__ = ["HarmonicImpropers"]


class HarmonicImpropers(EnergyTerm):
    """``Σ k Δ²`` with Δ the periodic difference ω - ω0 wrapped into [-π, π].

    Arguments:
        indices: ``(T, 4)`` atoms (CHARMM order, the central atom first).
        k: ``(T,)`` kJ/mol/rad². psi0: ``(T,)`` rad.
        max_slope: clipping threshold on ``|dU/dω|`` in kJ/mol/rad, or ``None``.
    """

    def __init__(self, indices: np.ndarray, k: np.ndarray, psi0: np.ndarray, max_slope=None):
        super().__init__()
        self.add_indices("atom", indices)
        self.add_parameter("k", k)
        self.add_parameter("psi0", psi0)
        self.max_slope = max_slope
        self.count = len(k)

    def _energy_and_slope(self, omega: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        delta = torch.remainder(omega - self.psi0 + math.pi, 2.0 * math.pi) - math.pi
        return linearised_harmonic(delta, self.k, self.max_slope)

    def evaluate(self, xt: Vectors, gradient: Vectors | None = None) -> torch.Tensor:
        if self.count == 0:
            return self.zero_energy(xt)
        atoms = (self.atom0, self.atom1, self.atom2, self.atom3)
        return dihedral_term(xt, atoms, self._energy_and_slope, gradient)
