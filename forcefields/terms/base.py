"""Shared base of the energy terms."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["EnergyTerm"]


class EnergyTerm(nn.Module):
    """A term of the force field: ``forward(x: (B, N, 3) nm) -> (B,) kJ/mol``.

    Parameters are stored as buffers so that ``.to(device, dtype)`` moves them;
    index buffers stay int64.
    """

    def add_indices(self, name: str, indices: np.ndarray) -> None:
        """Store ``(T, k)`` atom indices as k int64 buffers ``{name}0 … {name}{k-1}``."""
        indices = np.asarray(indices, dtype=np.int64)
        for column in range(indices.shape[1]):
            self.register_buffer(f"{name}{column}", torch.as_tensor(indices[:, column].copy()))

    def add_parameter(self, name: str, values: np.ndarray) -> None:
        """Store ``(T,)`` floating-point parameters as a float64 buffer (cast with ``.to``)."""
        self.register_buffer(name, torch.as_tensor(np.asarray(values, dtype=np.float64).copy()))

    @staticmethod
    def empty_energy(x: torch.Tensor) -> torch.Tensor:
        """Zero energies ``(B,)`` for a term with no interactions, still differentiable."""
        return (x * 0).sum(dim=(1, 2))
