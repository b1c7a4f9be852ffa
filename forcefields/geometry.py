"""Batched internal coordinates and their analytic derivatives.

The energy terms work on coordinates split by Cartesian component, ``xt = (X, Y,
Z)`` with each component a contiguous ``(N, B)`` tensor (see
:func:`component_major`). Gathering the atoms of ``T`` terms gives ``(T, B)``
arrays, so every operation is an elementwise, vectorised pass over the batch.

Each coordinate function returns the coordinate ``(T, B)`` and, when asked, its
derivative with respect to the positions of the atoms involved, as
:data:`Vectors` of ``(T, B)`` arrays; :func:`scatter_add` accumulates
``dU/ds · ds/dx`` into a gradient. Angles are in radians, distances in nm.
"""

from __future__ import annotations

import torch

__all__ = [
    "Vectors",
    "component_major",
    "from_component_major",
    "gather",
    "dot",
    "cross",
    "scatter_add",
    "distances",
    "angles",
    "dihedrals",
]

Vectors = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
"""Three arrays of the same shape: the x, y and z components of vectors."""

_TINY = 1e-30
"""Floor for lengths and squared norms that divide derivatives: where a geometry
is degenerate (coincident or collinear atoms) the direction of the derivative is
undefined and the corresponding vector is exactly zero, so the floor turns 0/0
into 0 instead of NaN. Never reached by a physical configuration."""


def component_major(x: torch.Tensor) -> Vectors:
    """``(B, N, 3)`` coordinates as three contiguous ``(N, B)`` component arrays."""
    return tuple(x.detach().permute(2, 1, 0).contiguous().unbind(0))


def from_component_major(xt: Vectors) -> torch.Tensor:
    """Inverse of :func:`component_major`: three ``(N, B)`` arrays to ``(B, N, 3)``."""
    return torch.stack(xt, dim=-1).transpose(0, 1)


def gather(xt: Vectors, i: torch.Tensor) -> Vectors:
    """Components of atoms ``i``, each ``(T, B)``."""
    return tuple(torch.index_select(component, 0, i) for component in xt)


def _difference(u: Vectors, v: Vectors) -> Vectors:
    return (u[0] - v[0], u[1] - v[1], u[2] - v[2])


def _scaled(u: Vectors, factor: torch.Tensor) -> Vectors:
    return (u[0] * factor, u[1] * factor, u[2] * factor)


def _combination(u: Vectors, a: torch.Tensor, v: Vectors, b: torch.Tensor) -> Vectors:
    return (u[0] * a + v[0] * b, u[1] * a + v[1] * b, u[2] * a + v[2] * b)


def dot(u: Vectors, v: Vectors) -> torch.Tensor:
    """Dot products of vectors."""
    return u[0] * v[0] + u[1] * v[1] + u[2] * v[2]


def cross(u: Vectors, v: Vectors) -> Vectors:
    """Cross products of vectors."""
    return (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])


def scatter_add(
    gradient: Vectors, atoms: torch.Tensor, vectors: Vectors, weight: torch.Tensor
) -> None:
    """``gradient[atoms] += weight * vectors`` component-wise (repeated atoms accumulate).

    Arguments:
        gradient: three ``(N, B)`` accumulators, modified in place.
        atoms: ``(T,)`` atom of each row. vectors: ``(T, B)`` components.
        weight: ``(T, B)`` factors, typically ``dU/ds``.
    """
    for accumulator, component in zip(gradient, vectors, strict=True):
        accumulator.index_add_(0, atoms, component * weight)


def distances(xt: Vectors, i: torch.Tensor, j: torch.Tensor, with_derivative: bool = False):
    """Distances r = |x_j - x_i| in nm, ``(T, B)``.

    With ``with_derivative``: ``(r, dr/dx_j)``; ``dr/dx_i`` is its negative.
    """
    d = _difference(gather(xt, j), gather(xt, i))
    r = torch.sqrt(dot(d, d))
    if not with_derivative:
        return r
    return r, _scaled(d, 1.0 / r.clamp_min(_TINY))


def angles(
    xt: Vectors, i: torch.Tensor, j: torch.Tensor, k: torch.Tensor, with_derivative: bool = False
):
    """Bond angles θ(i-j-k) in radians, in [0, π], ``(T, B)``.

    Computed as atan2(|u × v|, u · v) with u = x_i - x_j, v = x_k - x_j, which
    keeps full precision near 0 and π. With ``with_derivative``:
    ``(θ, dθ/dx_i, dθ/dx_k)``; ``dθ/dx_j`` is minus their sum.
    """
    centre = gather(xt, j)
    u = _difference(gather(xt, i), centre)
    v = _difference(gather(xt, k), centre)
    normal = cross(u, v)
    sine = torch.sqrt(dot(normal, normal))
    cosine = dot(u, v)
    theta = torch.atan2(sine, cosine)
    if not with_derivative:
        return theta
    scale = 1.0 / (sine * sine + cosine * cosine).clamp_min(_TINY)
    unit_normal = _scaled(normal, 1.0 / sine.clamp_min(_TINY))
    d_theta_du = _combination(cross(v, unit_normal), cosine * scale, v, -sine * scale)
    d_theta_dv = _combination(cross(unit_normal, u), cosine * scale, u, -sine * scale)
    return theta, d_theta_du, d_theta_dv


def dihedrals(
    xt: Vectors,
    i: torch.Tensor,
    j: torch.Tensor,
    k: torch.Tensor,
    l: torch.Tensor,
    with_derivative: bool = False,
):
    """Dihedral angles φ(i-j-k-l) in radians, in (-π, π], ``(T, B)``.

    IUPAC sign convention (as OpenMM, CHARMM and mdtraj). With
    ``with_derivative``: ``(φ, (dφ/dx_i, dφ/dx_j, dφ/dx_k, dφ/dx_l))``, from the
    closed forms of Blondel & Karplus (J. Comput. Chem. 17, 1132, 1996).
    """
    xj = gather(xt, j)
    xk = gather(xt, k)
    b1 = _difference(xj, gather(xt, i))
    b2 = _difference(xk, xj)
    b3 = _difference(gather(xt, l), xk)
    n1 = cross(b1, b2)
    n2 = cross(b2, b3)
    b2_norm = torch.sqrt(dot(b2, b2))
    phi = torch.atan2(b2_norm * dot(b1, n2), dot(n1, n2))
    if not with_derivative:
        return phi
    n1_squared = dot(n1, n1).clamp_min(_TINY)
    n2_squared = dot(n2, n2).clamp_min(_TINY)
    b2_squared = (b2_norm * b2_norm).clamp_min(_TINY)
    d_phi_di = _scaled(n1, -b2_norm / n1_squared)
    d_phi_dl = _scaled(n2, b2_norm / n2_squared)
    p = dot(b1, b2) / b2_squared
    q = dot(b3, b2) / b2_squared
    d_phi_dj = _combination(d_phi_di, -p - 1.0, d_phi_dl, q)
    d_phi_dk = _combination(d_phi_dl, -q - 1.0, d_phi_di, p)
    return phi, (d_phi_di, d_phi_dj, d_phi_dk, d_phi_dl)
