"""Batched Krylov solvers: Lanczos quadrature and conjugate gradients.

Each sample ``b`` of a batch has its own symmetric positive-definite matrix
:math:`H_b`, available only through ``matvec(V) -> (H_b v_b)_b`` on ``(B, D)`` arrays.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["lanczos_quadrature", "conjugate_gradient"]

MatVec = Callable[[Tensor], Tensor]


def lanczos_quadrature(
    matvec: MatVec, probe: Tensor, steps: int, function: Callable[[Tensor], Tensor] = torch.log
) -> Tensor:
    r"""Estimates :math:`v_b^\top f(H_b)\, v_b` per sample by ``steps`` Lanczos iterations.

    The Gauss quadrature rule of the Lanczos tridiagonal matrix :math:`T` gives
    :math:`\|v\|^2 \sum_j S_{1j}^2 f(\theta_j)` with :math:`T = S\,\mathrm{diag}(\theta)\,S^\top`;
    it is exact once ``steps`` reaches :math:`D`. Vectors are fully re-orthogonalised.

    A sample whose Krylov space becomes invariant (breakdown: the orthogonalised residual
    :math:`\beta_j` falls below :math:`\sqrt{\epsilon}\,\|H_b q_j\|`, :math:`\epsilon` the
    dtype's machine epsilon; e.g. :math:`H_b = cI` at the first step) gets
    :math:`\beta = 0` and :math:`\alpha = 1` in all later rows. That block of :math:`T` is
    decoupled from the first basis vector, so it carries zero quadrature weight and the rule
    is exact for the invariant subspace; dropping a :math:`\beta` that small changes the
    quadratic form by :math:`O(\beta^2)` only, i.e. by round-off. The iteration stops once
    every sample has broken down.

    References:
        | Fast Estimation of tr(f(A)) via Stochastic Lanczos Quadrature (Ubaru et al., 2017)

    Arguments:
        matvec: Batched product with :math:`H_b`, ``(B, D) -> (B, D)``.
        probe: Start vectors :math:`v_b`, shape ``(B, D)``.
        steps: Number of Lanczos iterations (capped at :math:`D`).
        function: Matrix function :math:`f` applied to eigenvalues.

    Returns:
        The quadratic forms, shape ``(B,)``.
    """
    steps = min(steps, probe.shape[-1])
    norm = probe.norm(dim=-1, keepdim=True)
    basis = [probe / norm]
    relative_breakdown = torch.finfo(probe.dtype).eps ** 0.5
    tiny = torch.finfo(probe.dtype).tiny
    broken = torch.zeros(len(probe), dtype=torch.bool, device=probe.device)
    alphas, betas = [], []
    for j in range(steps):
        w = matvec(basis[j])
        alphas.append(torch.where(broken, 1.0, (w * basis[j]).sum(-1)))
        if j == steps - 1:
            break
        scale = w.norm(dim=-1)
        stacked = torch.stack(basis, dim=1)
        w = w - torch.einsum("bk,bkd->bd", torch.einsum("bkd,bd->bk", stacked, w), stacked)
        beta = w.norm(dim=-1)
        broken = broken | (beta <= relative_breakdown * scale)
        if bool(broken.all()):
            break
        beta = torch.where(broken, 0.0, beta)
        betas.append(beta)
        basis.append(torch.where(broken[:, None], 0.0, w / beta.clamp_min(tiny)[:, None]))
    tridiagonal = torch.diag_embed(torch.stack(alphas, -1))
    if betas:
        off_diagonal = torch.diag_embed(torch.stack(betas, -1), offset=1)
        tridiagonal = tridiagonal + off_diagonal + off_diagonal.transpose(-1, -2)
    eigenvalues, eigenvectors = torch.linalg.eigh(tridiagonal)
    weights = eigenvectors[:, 0, :].square()
    return norm.squeeze(-1).square() * (weights * function(eigenvalues)).sum(-1)


def conjugate_gradient(
    matvec: MatVec, rhs: Tensor, iterations: int, tolerance: float = 1e-6
) -> Tensor:
    r"""Solves :math:`H_b z_b = r_b` per sample by conjugate gradients.

    Stops after ``iterations`` steps or once every relative residual
    :math:`\|H_b z_b - r_b\| / \|r_b\|` is below ``tolerance``.

    Arguments:
        matvec: Batched product with :math:`H_b`, ``(B, D) -> (B, D)``.
        rhs: Right-hand sides, shape ``(B, D)``.
        iterations: Maximum number of iterations.
        tolerance: Relative residual at which to stop.

    Returns:
        The solutions, shape ``(B, D)``.
    """
    solution = torch.zeros_like(rhs)
    residual = rhs.clone()
    direction = residual.clone()
    residual_sq = residual.square().sum(-1)
    threshold = tolerance**2 * rhs.square().sum(-1)
    for _ in range(iterations):
        if bool((residual_sq <= threshold).all()):
            break
        product = matvec(direction)
        curvature = (direction * product).sum(-1)
        step = torch.where(curvature > 0, residual_sq / curvature, torch.zeros_like(curvature))
        solution = solution + step[:, None] * direction
        residual = residual - step[:, None] * product
        new_residual_sq = residual.square().sum(-1)
        ratio = new_residual_sq / residual_sq.clamp_min(torch.finfo(rhs.dtype).tiny)
        direction = residual + ratio[:, None] * direction
        residual_sq = new_residual_sq
    return solution
