"""Geometric observables of coordinates: dihedral angles and signed volumes (chirality)."""

from __future__ import annotations

import math

import torch

from systems.observables._arrays import ArrayLike, like, to_torch

__all__ = ["dihedral", "signed_volume"]


def dihedral(x: ArrayLike, i: int, j: int, k: int, l: int) -> ArrayLike:
    """Dihedral angle i-j-k-l in radians, in (-π, π], shape ``(B,)`` for ``x`` ``(B, N, 3)``.

    IUPAC sign convention (as mdtraj, OpenMM and CHARMM): looking along j→k, the
    angle is positive when the bond k-l is rotated clockwise from the bond j-i.
    ``x`` is a numpy array or a torch tensor (nm, any float dtype); the result is
    the same kind, differentiable for tensors. A single frame ``(N, 3)`` gives a
    0-d result.
    """
    frames = to_torch(x)
    b1 = frames[..., j, :] - frames[..., i, :]
    b2 = frames[..., k, :] - frames[..., j, :]
    b3 = frames[..., l, :] - frames[..., k, :]
    n1 = torch.linalg.cross(b1, b2)
    n2 = torch.linalg.cross(b2, b3)
    sine = torch.linalg.vector_norm(b2, dim=-1) * (b1 * n2).sum(dim=-1)
    angle = torch.atan2(sine, (n1 * n2).sum(dim=-1))
    return like(torch.where(angle <= -math.pi, angle + 2.0 * math.pi, angle), x)


def signed_volume(x: ArrayLike, center: int, a: int, b: int, c: int) -> ArrayLike:
    """Signed volume ``(a - center) · ((b - center) × (c - center))`` in nm³, shape ``(B,)``.

    The sign gives the handedness of the four atoms. For an amino-acid Cα with
    ``center = CA``, ``a = N``, ``b = C`` (carbonyl), ``c = CB``, it is positive for
    L residues (S configuration of L-alanine) and negative for D residues.
    """
    frames = to_torch(x)
    edges = frames[..., [a, b, c], :] - frames[..., center : center + 1, :]
    return like(torch.linalg.det(edges), x)
