"""Batched internal coordinates: distances, angles and dihedrals.

All functions take coordinates ``x`` of shape ``(B, N, 3)`` (nm) and integer
index tensors of shape ``(T,)``, and return ``(B, T)`` tensors. Angles are in
radians. They are differentiable with autograd.
"""

from __future__ import annotations

import torch

__all__ = ["distances", "angles", "dihedrals"]


def distances(x: torch.Tensor, i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
    """Distances |x_j - x_i| in nm, shape ``(B, T)``."""
    return torch.linalg.vector_norm(x[:, j] - x[:, i], dim=-1)


def angles(x: torch.Tensor, i: torch.Tensor, j: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Bond angles i-j-k in radians, in [0, π], shape ``(B, T)``.

    Computed as atan2(|u × v|, u · v), which keeps full precision near 0 and π
    (where acos loses digits).
    """
    u = x[:, i] - x[:, j]
    v = x[:, k] - x[:, j]
    cross = torch.linalg.vector_norm(torch.cross(u, v, dim=-1), dim=-1)
    return torch.atan2(cross, (u * v).sum(-1))


def dihedrals(
    x: torch.Tensor, i: torch.Tensor, j: torch.Tensor, k: torch.Tensor, l: torch.Tensor
) -> torch.Tensor:
    """Dihedral angles i-j-k-l in radians, in (-π, π], shape ``(B, T)``.

    IUPAC sign convention (as OpenMM, CHARMM and mdtraj): looking along j→k,
    the angle is positive when l is rotated clockwise from i.
    """
    b1 = x[:, j] - x[:, i]
    b2 = x[:, k] - x[:, j]
    b3 = x[:, l] - x[:, k]
    n1 = torch.cross(b1, b2, dim=-1)
    n2 = torch.cross(b2, b3, dim=-1)
    b2_norm = torch.linalg.vector_norm(b2, dim=-1)
    y = b2_norm * (b1 * n2).sum(-1)
    return torch.atan2(y, (n1 * n2).sum(-1))
