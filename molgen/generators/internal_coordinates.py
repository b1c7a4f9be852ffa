"""Cartesian ↔ internal coordinates along a :class:`~molgen.generators.zmatrix.ZMatrix`.

The internal coordinates of ``N`` atoms are ``3N - 6`` numbers, in placement order:
``r_ab, r_bc, θ_abc`` (nm, nm, rad), then ``(r, θ, φ)`` of every later atom. The
remaining six numbers are the rigid-body pose. With the pose drawn separately, the
volume element is (with ``R`` Haar-distributed, total measure 1)

    dx = 8π² r_ab² · r_bc² sin θ_abc · Π_i r_i² sin θ_i · d³t dR d(internal),

where ``t`` is the position of atom ``a``. :func:`log_volume` returns the logarithm of
the factor in front of ``d³t dR d(internal)``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from molgen.generators.zmatrix import ZMatrix

__all__ = ["to_internal", "to_cartesian", "log_volume", "dihedral", "LOG_ROTATION_VOLUME"]

LOG_ROTATION_VOLUME = math.log(8.0 * math.pi**2)
"""log of the SO(3) volume in the (axis on S², angle about it) parametrisation."""


def dihedral(p0: Tensor, p1: Tensor, p2: Tensor, p3: Tensor) -> Tensor:
    """Dihedral angle ``(...)`` in (-π, π] of four points ``(..., 3)`` (IUPAC sign)."""
    b0, b1, b2 = p0 - p1, p2 - p1, p3 - p2
    axis = b1 / torch.linalg.vector_norm(b1, dim=-1, keepdim=True)
    v = b0 - (b0 * axis).sum(-1, keepdim=True) * axis
    w = b2 - (b2 * axis).sum(-1, keepdim=True) * axis
    x = (v * w).sum(-1)
    y = (torch.cross(axis, v, dim=-1) * w).sum(-1)
    return torch.atan2(y, x)


def _angle(p0: Tensor, p1: Tensor, p2: Tensor) -> Tensor:
    u, v = p0 - p1, p2 - p1
    cross = torch.linalg.vector_norm(torch.cross(u, v, dim=-1), dim=-1)
    return torch.atan2(cross, (u * v).sum(-1))


def to_internal(x: Tensor, zmatrix: ZMatrix) -> Tensor:
    """Internal coordinates ``(B, 3N - 6)`` of ``x`` ``(B, N, 3)`` nm (see the module doc)."""
    a, b, c = (int(i) for i in zmatrix.order[:3])
    refs = torch.as_tensor(zmatrix.references, device=x.device)
    placed = torch.as_tensor(zmatrix.order[3:], device=x.device)
    xi, xj, xk, xl = x[:, placed], x[:, refs[:, 0]], x[:, refs[:, 1]], x[:, refs[:, 2]]
    bonds = torch.linalg.vector_norm(xi - xj, dim=-1)
    angles = _angle(xi, xj, xk)
    torsions = dihedral(xl, xk, xj, xi)
    frame = torch.stack(
        [
            torch.linalg.vector_norm(x[:, b] - x[:, a], dim=-1),
            torch.linalg.vector_norm(x[:, c] - x[:, b], dim=-1),
            _angle(x[:, a], x[:, b], x[:, c]),
        ],
        dim=-1,
    )
    placed_ic = torch.stack([bonds, angles, torsions], dim=-1).flatten(1)
    return torch.cat([frame, placed_ic], dim=-1)


def to_cartesian(internal: Tensor, zmatrix: ZMatrix) -> Tensor:
    """Coordinates ``(B, N, 3)`` nm in the Z-matrix frame from ``internal`` ``(B, 3N - 6)``.

    Atom ``a`` at the origin, ``b`` on the +x axis, ``c`` in the xy plane with y > 0;
    later atoms by the natural-extension reference frame (NeRF) construction.
    """
    r_ab, r_bc, theta = internal[:, 0], internal[:, 1], internal[:, 2]
    zero = torch.zeros_like(r_ab)
    positions = [None] * zmatrix.n_atoms
    order = [int(i) for i in zmatrix.order]
    slot = {atom: n for n, atom in enumerate(order)}
    positions[0] = torch.stack([zero, zero, zero], dim=-1)
    positions[1] = torch.stack([r_ab, zero, zero], dim=-1)
    positions[2] = torch.stack(
        [r_ab - r_bc * torch.cos(theta), r_bc * torch.sin(theta), zero], dim=-1
    )
    placed = internal[:, 3:].unflatten(1, (-1, 3))
    for n, (j, k, l) in enumerate(zmatrix.references):
        xj, xk, xl = positions[slot[int(j)]], positions[slot[int(k)]], positions[slot[int(l)]]
        r, angle, torsion = placed[:, n, 0:1], placed[:, n, 1:2], placed[:, n, 2:3]
        axis = xj - xk
        axis = axis / torch.linalg.vector_norm(axis, dim=-1, keepdim=True)
        normal = torch.cross(xk - xl, axis, dim=-1)
        normal = normal / torch.linalg.vector_norm(normal, dim=-1, keepdim=True)
        in_plane = torch.cross(normal, axis, dim=-1)
        positions[n + 3] = xj + r * (
            -torch.cos(angle) * axis
            + torch.sin(angle) * (torch.cos(torsion) * in_plane + torch.sin(torsion) * normal)
        )
    ordered = torch.stack(positions, dim=1)
    inverse = torch.as_tensor(
        [slot[atom] for atom in range(zmatrix.n_atoms)], device=internal.device
    )
    return ordered[:, inverse]


def log_volume(internal: Tensor) -> Tensor:
    """``log(8π² r_ab² r_bc² sin θ_abc Π r_i² sin θ_i)`` ``(B,)`` from ``(B, 3N - 6)``."""
    placed = internal[:, 3:].unflatten(1, (-1, 3))
    frame = 2.0 * torch.log(internal[:, 0]) + 2.0 * torch.log(internal[:, 1])
    frame = frame + torch.log(torch.sin(internal[:, 2]))
    body = (2.0 * torch.log(placed[..., 0]) + torch.log(torch.sin(placed[..., 1]))).sum(-1)
    return LOG_ROTATION_VOLUME + frame + body
