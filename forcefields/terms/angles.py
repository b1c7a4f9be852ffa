"""Harmonic bond angles."""

from __future__ import annotations

import numpy as np
import torch

from forcefields.clipping import linearised_harmonic
from forcefields.geometry import Vectors, angles, scatter_add
from forcefields.terms.base import EnergyTerm

__all__ = ["HarmonicAngles"]


class HarmonicAngles(EnergyTerm):
    """``Σ k (θ - θ0)²`` over angles i-j-k.

    Arguments:
        indices: ``(T, 3)`` atoms, the vertex in the middle.
        k: ``(T,)`` kJ/mol/rad². theta0: ``(T,)`` rad.
        max_slope: clipping threshold on ``|dU/dθ|`` in kJ/mol/rad, or ``None``.
    """

    def __init__(self, indices: np.ndarray, k: np.ndarray, theta0: np.ndarray, max_slope=None):
        super().__init__()
        self.add_indices("atom", indices)
        self.add_parameter("k", k)
        self.add_parameter("theta0", theta0)
        self.max_slope = max_slope
        self.count = len(k)

    def evaluate(self, xt: Vectors, gradient: Vectors | None = None) -> torch.Tensor:
        if self.count == 0:
            return self.zero_energy(xt)
        if gradient is None:
            theta = angles(xt, self.atom0, self.atom1, self.atom2)
            return linearised_harmonic(theta - self.theta0, self.k, self.max_slope)[0].sum(0)
        theta, d_i, d_k = angles(xt, self.atom0, self.atom1, self.atom2, with_derivative=True)
        energy, slope = linearised_harmonic(theta - self.theta0, self.k, self.max_slope)
        scatter_add(gradient, self.atom0, d_i, slope)
        scatter_add(gradient, self.atom2, d_k, slope)
        scatter_add(gradient, self.atom1, d_i, -slope)
        scatter_add(gradient, self.atom1, d_k, -slope)
        return energy.sum(0)
