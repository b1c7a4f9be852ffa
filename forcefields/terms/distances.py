"""Harmonic distance terms: bonds and Urey-Bradley 1-3 springs."""

from __future__ import annotations

import numpy as np
import torch

from forcefields.clipping import linearised_harmonic
from forcefields.geometry import Vectors, distances, scatter_add
from forcefields.terms.base import EnergyTerm

__all__ = ["HarmonicDistances"]


class HarmonicDistances(EnergyTerm):
    """``Σ k (r - r0)²`` over atom pairs (CHARMM bonds and Urey-Bradley terms).

    Arguments:
        indices: ``(T, 2)`` atom pairs.
        k: ``(T,)`` kJ/mol/nm². r0: ``(T,)`` nm.
        max_slope: clipping threshold on ``|dU/dr|`` in kJ/mol/nm, or ``None``.
    """

    def __init__(self, indices: np.ndarray, k: np.ndarray, r0: np.ndarray, max_slope=None):
        super().__init__()
        self.add_indices("atom", indices)
        self.add_parameter("k", k)
        self.add_parameter("r0", r0)
        self.max_slope = max_slope
        self.count = len(k)

    def evaluate(self, xt: Vectors, gradient: Vectors | None = None) -> torch.Tensor:
        if self.count == 0:
            return self.zero_energy(xt)
        if gradient is None:
            r = distances(xt, self.atom0, self.atom1)
            return linearised_harmonic(r - self.r0, self.k, self.max_slope)[0].sum(0)
        r, dr_dj = distances(xt, self.atom0, self.atom1, with_derivative=True)
        energy, slope = linearised_harmonic(r - self.r0, self.k, self.max_slope)
        scatter_add(gradient, self.atom1, dr_dj, slope)
        scatter_add(gradient, self.atom0, dr_dj, -slope)
        return energy.sum(0)
