"""Normalised kernels ``K(x^H | x^H*)`` around minimum-energy hydrogens (thesis App. A.2).

The estimator of eq 87 replaces the Dirac ``δ(x^H − x^H*)`` of eq 85 by a normalised
kernel centred on the hydrogen minimum ``x^H*`` (heavy atoms fixed). Two kernels:

``isotropic``
    the thesis's Gaussian of width ``σ`` in the Cartesian hydrogen coordinates,
    ``log K = −|x^H − x^H*|² / (2σ²) − (3 N_H / 2) log(2π σ²)``.
``internal``
    a Gaussian in hydrogen internal coordinates ``q = (r, θ, φ)`` per hydrogen (bond
    to its parent ``a``, angle ``h-a-b``, dihedral ``h-a-b-c`` on fixed heavy atoms)
    with precision ``β H_q``, ``H_q`` the energy Hessian in ``q`` at the minimum (the
    conditional Boltzmann density of the hydrogens in the harmonic approximation),
    mapped to Cartesian coordinates with the Jacobian ``Π_h 1 / (r_h² sin θ_h)``:
    ``log K = −½ β δqᵀ H_q δq + ½ log det(β H_q / 2π) − Σ_h log(r_h² sin θ_h)``,
    ``δφ`` wrapped to ``(−π, π]``. ``H_q = Jᵀ H_x J`` with ``J = ∂x^H/∂q`` and ``H_x``
    the Cartesian Hessian by central differences of the forces (the gradient term
    vanishes at the minimum). Eigenvalues of ``β H_q`` are floored at
    ``1 / max_width²``: nearly free methyl rotors (dialanine's, ``β H_q`` down to
    ~0.1 rad⁻²) would otherwise give a kernel wider than their rotamer basin
    (±π/3), and the share of the kernel's mass left in the basin would vary from
    frame to frame (a bias); at ``max_width = 0.25`` rad less than 1e-4 of it leaves.
    The Gaussian's mass outside ``r > 0``, ``0 < θ < π`` is neglected (below
    ``exp(−40)`` at these widths).

Coordinates are ``(B, N, 3)`` nm, energies kJ/mol, ``β`` mol/kJ, angles radians.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from forcefields.errors import ConfigError

__all__ = [
    "hydrogen_zmatrix",
    "hydrogen_internal",
    "hydrogen_hessian",
    "isotropic_log_kernel",
    "internal_log_kernel",
]

HESSIAN_STEP = 1e-5
"""Central-difference step (nm) of the Cartesian hydrogen Hessian."""

MAX_WIDTH = 0.25
"""Largest standard deviation (rad) of the ``internal`` kernel along any direction."""


def hydrogen_zmatrix(system) -> np.ndarray:
    """Rows ``(h, a, b, c)`` ``(N_H, 4)``: hydrogen, parent, and two heavy reference atoms.

    ``b`` is a heavy neighbour of ``a`` (one with a further heavy neighbour if any), ``c``
    a heavy neighbour of ``b`` other than ``a``, else another heavy neighbour of ``a``.
    """
    heavy = set(int(i) for i in system.heavy_atoms)
    neighbours: dict[int, set[int]] = {i: set() for i in range(system.n_atoms)}
    for bond in system.topology.bonds:
        neighbours[bond[0].index].add(bond[1].index)
        neighbours[bond[1].index].add(bond[0].index)
    rows = []
    for h, a in zip(system.hydrogens, system.hydrogen_parents, strict=True):
        a = int(a)
        around_a = sorted(n for n in neighbours[a] if n in heavy)
        if not around_a:
            raise ConfigError(f"{system.name}: hydrogen {h}'s parent {a} has no heavy neighbour")
        b = next((n for n in around_a if neighbours[n] & heavy - {a}), around_a[0])
        candidates = sorted(neighbours[b] & heavy - {a}) or [n for n in around_a if n != b]
        if not candidates:
            raise ConfigError(f"{system.name}: hydrogen {h}: no third heavy atom for a dihedral")
        rows.append((int(h), a, b, candidates[0]))
    return np.array(rows, dtype=np.int64).reshape(-1, 4)


def hydrogen_internal(x: Tensor, zmatrix: Tensor) -> Tensor:
    """Internal coordinates ``(B, N_H, 3)`` = ``(r nm, θ, φ)`` of the hydrogens of ``x``."""
    h, a, b, c = (x[:, zmatrix[:, k]] for k in range(4))
    bond, axis, far = h - a, b - a, c - b
    r = torch.linalg.vector_norm(bond, dim=-1)
    cosine = (bond * axis).sum(-1) / (r * torch.linalg.vector_norm(axis, dim=-1))
    theta = torch.acos(cosine.clamp(-1.0, 1.0))
    n1, n2 = torch.cross(-bond, axis, dim=-1), torch.cross(axis, far, dim=-1)
    sine = torch.linalg.vector_norm(axis, dim=-1) * (-bond * n2).sum(-1)
    phi = torch.atan2(sine, (n1 * n2).sum(-1))  # IUPAC sign, as systems.observables
    return torch.stack([r, theta, phi], dim=-1)


def hydrogen_hessian(
    energy: Callable[[Tensor], Tensor], x: Tensor, hydrogens: Tensor, batch_size: int = 64
) -> Tensor:
    """Hessian ``(B, 3 N_H, 3 N_H)`` kJ/mol/nm² of the energy in the hydrogen coordinates.

    Central differences of the forces with step :data:`HESSIAN_STEP`, symmetrised.
    """
    return torch.cat([_hessian_chunk(energy, c, hydrogens) for c in x.split(batch_size)])


def _hessian_chunk(energy, x: Tensor, hydrogens: Tensor) -> Tensor:
    batch, k = x.shape[0], 3 * len(hydrogens)
    steps = HESSIAN_STEP * torch.eye(k, dtype=x.dtype, device=x.device)
    shifts = torch.cat([steps, -steps])
    moved = (x[:, hydrogens].reshape(batch, 1, k) + shifts).reshape(-1, len(hydrogens), 3)
    displaced = x.repeat_interleave(2 * k, dim=0).index_copy(1, hydrogens, moved)
    gradient = -energy.forces(displaced)[:, hydrogens].reshape(batch, 2, k, k)
    hessian = (gradient[:, 0] - gradient[:, 1]) / (2.0 * HESSIAN_STEP)
    return 0.5 * (hessian + hessian.mT)


def isotropic_log_kernel(x: Tensor, centre: Tensor, hydrogens: Tensor, sigma: float) -> Tensor:
    """Thesis eq 86b/87 kernel: ``log N(x^H; x^H*, σ² I)`` ``(B,)``, ``σ`` in nm."""
    if not (math.isfinite(sigma) and sigma > 0):
        raise ConfigError(f"isotropic kernel: sigma {sigma} is not a finite number > 0 (nm)")
    squared = (x[:, hydrogens] - centre[:, hydrogens]).square().sum(dim=(-2, -1))
    dimension = 3 * len(hydrogens)
    return -squared / (2.0 * sigma**2) - 0.5 * dimension * math.log(2.0 * math.pi * sigma**2)


def internal_log_kernel(
    x: Tensor,
    centre: Tensor,
    zmatrix: Tensor,
    hessian: Tensor,
    beta: float,
    max_width: float = MAX_WIDTH,
) -> Tensor:
    """Harmonic kernel in hydrogen internal coordinates, ``log K(x^H | x^H*)`` ``(B,)``.

    Arguments:
        x: frames ``(B, N, 3)`` nm (where the kernel is evaluated).
        centre: the same frames with minimised hydrogens ``(B, N, 3)`` nm.
        zmatrix: ``(N_H, 4)`` rows of :func:`hydrogen_zmatrix`.
        hessian: ``(B, 3 N_H, 3 N_H)`` Cartesian hydrogen Hessian at ``centre``.
        beta: mol/kJ.
        max_width: floor ``1 / max_width²`` on the eigenvalues of the precision ``β H_q``.
    """
    n_h = zmatrix.shape[0]
    q, q_star = hydrogen_internal(x, zmatrix), hydrogen_internal(centre, zmatrix)
    delta = q - q_star
    delta[..., 2] = torch.remainder(delta[..., 2] + math.pi, 2.0 * math.pi) - math.pi
    to_cartesian = torch.linalg.inv(_internal_jacobian(centre, zmatrix))  # (B, N_H, 3, 3)
    blocks = hessian.reshape(-1, n_h, 3, n_h, 3)
    precision = beta * torch.einsum("biua,biujv,bjvc->biajc", to_cartesian, blocks, to_cartesian)
    precision = precision.reshape(-1, 3 * n_h, 3 * n_h)
    eigenvalues, vectors = torch.linalg.eigh(0.5 * (precision + precision.mT))
    eigenvalues = eigenvalues.clamp_min(1.0 / max_width**2)
    projected = (vectors.mT @ delta.reshape(-1, 3 * n_h, 1)).squeeze(-1)
    quadratic = (eigenvalues * projected.square()).sum(-1)
    log_det = torch.log(eigenvalues).sum(-1)
    log_jacobian = torch.log(q[..., 0].square() * torch.sin(q[..., 1])).sum(-1)
    return -0.5 * quadratic + 0.5 * log_det - 1.5 * n_h * math.log(2.0 * math.pi) - log_jacobian


def _internal_jacobian(x: Tensor, zmatrix: Tensor) -> Tensor:
    """``∂q_h/∂x_h`` ``(B, N_H, 3, 3)`` (rows: ``r, θ, φ``), by autograd."""
    with torch.enable_grad():
        moving = x[:, zmatrix[:, 0]].detach().requires_grad_(True)
        q = hydrogen_internal(x.detach().index_copy(1, zmatrix[:, 0], moving), zmatrix)
        rows = [
            torch.autograd.grad(q[..., k].sum(), moving, retain_graph=k < 2)[0] for k in range(3)
        ]
    return torch.stack(rows, dim=-2)
