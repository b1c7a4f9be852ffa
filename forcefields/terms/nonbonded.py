"""Nonbonded pair terms: CHARMM Lennard-Jones and Coulomb, vacuum, no cutoff."""

from __future__ import annotations

import numpy as np
import torch

from forcefields.clipping import lennard_jones_switch_distance, linearised_below
from forcefields.geometry import Vectors, distances, scatter_add
from forcefields.terms.base import EnergyTerm
from forcefields.units import COULOMB_CONSTANT

__all__ = ["LennardJones", "Coulomb"]


class _PairTerm(EnergyTerm):
    """A sum over pairs of ``U(r)``, linearised below ``switch`` when clipped."""

    max_slope: float | None

    def _energy_and_slope(self, r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def _pair_energy(self, r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.max_slope is None:
            return self._energy_and_slope(r)
        return linearised_below(r, self.switch, self._energy_and_slope, self.slope_at_switch)

    def evaluate(self, xt: Vectors, gradient: Vectors | None = None) -> torch.Tensor:
        if self.count == 0:
            return self.zero_energy(xt)
        if gradient is None:
            return self._pair_energy(distances(xt, self.atom0, self.atom1))[0].sum(0)
        r, dr_dj = distances(xt, self.atom0, self.atom1, with_derivative=True)
        energy, slope = self._pair_energy(r)
        scatter_add(gradient, self.atom1, dr_dj, slope)
        scatter_add(gradient, self.atom0, dr_dj, -slope)
        return energy.sum(0)


class LennardJones(_PairTerm):
    """``Σ ε [(R/r)¹² - 2 (R/r)⁶]`` over nonbonded pairs (1-4 pairs with their own ε, R).

    Arguments:
        indices: ``(P, 2)`` pairs. rmin: ``(P,)`` R in nm. epsilon: ``(P,)`` kJ/mol.
        max_slope: clipping threshold on ``|dU/dr|`` in kJ/mol/nm, or ``None``.
            Below the distance where the repulsive wall reaches it, each pair
            continues along its tangent (finite energy at r = 0).

    Pairs with ε = 0 are dropped at construction.
    """

    def __init__(self, indices: np.ndarray, rmin: np.ndarray, epsilon: np.ndarray, max_slope=None):
        super().__init__()
        interacting = np.asarray(epsilon) != 0
        indices, rmin, epsilon = indices[interacting], rmin[interacting], epsilon[interacting]
        self.add_indices("atom", indices)
        self.add_parameter("rmin", rmin)
        self.add_parameter("epsilon", epsilon)
        self.count = len(rmin)
        self.max_slope = max_slope
        if max_slope is not None:
            switch = lennard_jones_switch_distance(epsilon, rmin, max_slope)
            ratio6 = (rmin / switch) ** 6
            self.add_parameter("switch", switch)
            self.add_parameter("slope_at_switch", -12.0 * epsilon * (ratio6**2 - ratio6) / switch)

    def _energy_and_slope(self, r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ratio6 = (self.rmin / r) ** 6
        energy = self.epsilon * ratio6 * (ratio6 - 2.0)
        slope = -12.0 * self.epsilon * ratio6 * (ratio6 - 1.0) / r
        return energy, slope


class Coulomb(_PairTerm):
    """``Σ C q_i q_j / r`` over nonbonded pairs, C = 1/(4π ε0) (relative permittivity 1).

    Arguments:
        indices: ``(P, 2)`` pairs. charge_product: ``(P,)`` q_i q_j in e² (1-4 scaling applied).
        max_slope: clipping threshold on ``|dU/dr|`` in kJ/mol/nm, or ``None``. The
            switch sits at ``r = sqrt(C |q_i q_j| / max_slope)``.

    Pairs with a zero charge product are dropped at construction.
    """

    def __init__(self, indices: np.ndarray, charge_product: np.ndarray, max_slope=None):
        super().__init__()
        interacting = np.asarray(charge_product) != 0
        indices, charge_product = indices[interacting], charge_product[interacting]
        strength = COULOMB_CONSTANT * np.asarray(charge_product, dtype=np.float64)
        self.add_indices("atom", indices)
        self.add_parameter("strength", strength)
        self.count = len(charge_product)
        self.max_slope = max_slope
        if max_slope is not None:
            switch = np.sqrt(np.abs(strength) / max_slope)
            self.add_parameter("switch", switch)
            self.add_parameter("slope_at_switch", -strength / switch**2)

    def _energy_and_slope(self, r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        energy = self.strength / r
        return energy, -energy / r
