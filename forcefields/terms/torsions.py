"""Shared machinery of the terms that are functions of dihedral angles."""

from __future__ import annotations

import torch

from forcefields.geometry import Vectors, dihedrals, scatter_add

__all__ = ["dihedral_term"]


def dihedral_term(
    xt: Vectors,
    atoms: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    energy_and_slope,
    gradient: Vectors | None,
) -> torch.Tensor:
    """Energies ``(B,)`` of ``Σ U(φ)`` over dihedrals, accumulating ``∂U/∂x`` if asked.

    Arguments:
        xt: coordinates by component. atoms: four ``(T,)`` index tensors.
        energy_and_slope: ``φ (T, B) -> (U (T, B), dU/dφ (T, B))``.
        gradient: accumulators or ``None``.
    """
    if gradient is None:
        phi = dihedrals(xt, *atoms)
        return energy_and_slope(phi)[0].sum(0)
    phi, derivatives = dihedrals(xt, *atoms, with_derivative=True)
    energy, slope = energy_and_slope(phi)
    for atom, derivative in zip(atoms, derivatives, strict=True):
        scatter_add(gradient, atom, derivative, slope)
    return energy.sum(0)
