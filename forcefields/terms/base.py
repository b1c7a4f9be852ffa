"""Shared base of the energy terms."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from forcefields.geometry import Vectors

__all__ = ["EnergyTerm"]


class EnergyTerm(nn.Module):
    """A term of the force field with analytic derivatives.

    ``evaluate(xt, gradient=None)`` takes the coordinates (nm) split by component,
    three ``(N, B)`` arrays (see :func:`forcefields.geometry.component_major`),
    returns the energies ``(B,)`` in kJ/mol and, when ``gradient`` (three ``(N, B)``
    accumulators) is given, adds ``∂U/∂x`` in kJ/mol/nm to it. Parameters are
    buffers so that ``.to(device, dtype)`` moves them; index buffers stay int64.
    """

    count: int

    def add_indices(self, name: str, indices: np.ndarray) -> None:
        """Store ``(T, k)`` atom indices as k int64 buffers ``{name}0 … {name}{k-1}``."""
        indices = np.asarray(indices, dtype=np.int64)
        for column in range(indices.shape[1]):
            self.register_buffer(f"{name}{column}", torch.as_tensor(indices[:, column].copy()))

    def add_parameter(self, name: str, values: np.ndarray) -> None:
        """Store ``(T,)`` parameters as a ``(T, 1)`` float64 buffer (broadcasts over the batch)."""
        column = np.asarray(values, dtype=np.float64).reshape(-1, 1).copy()
        self.register_buffer(name, torch.as_tensor(column))

    def evaluate(self, xt: Vectors, gradient: Vectors | None = None) -> torch.Tensor:
        raise NotImplementedError

    @staticmethod
    def zero_energy(xt: Vectors) -> torch.Tensor:
        """Zero energies ``(B,)`` for a term with no interactions."""
        return xt[0].new_zeros(xt[0].shape[1])
