"""Inversion of a gradient map by the convex-conjugate solve."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import Tensor

from forcefields.errors import MolgenError

from .derivatives import gradient, gradient_and_hessian

__all__ = ["NonInvertibleMapError", "invert_gradient_map"]


class NonInvertibleMapError(MolgenError):
    """The Hessian of a transport potential is singular where a point is to be inverted."""


def invert_gradient_map(
    potential: Callable[[Tensor], Tensor],
    y: Tensor,
    iterations: int = 50,
    tolerance: float | None = None,
) -> Tensor:
    r"""Returns :math:`x = (\nabla u)^{-1}(y) = \arg\max_x \langle x, y\rangle - u(x)`.

    Newton iterations on :math:`\nabla u(x) = y` (the stationarity condition of the
    strictly convex :math:`u(x) - \langle x, y\rangle`), started at :math:`x = y`, with a
    per-sample backtracking line search on the residual norm. Needs :math:`u` strictly
    convex.

    References:
        | Optimizing Functionals on the Space of Probabilities with Input Convex Neural
          Networks (Alvarez-Melis et al., 2021), Alg. 2

    Arguments:
        potential: Strictly convex batched potential, ``(B, D) -> (B,)``.
        y: Points to invert, shape ``(B, D)``.
        iterations: Maximum Newton iterations.
        tolerance: Largest accepted residual :math:`\|\nabla u(x) - y\|_\infty`, relative to
            :math:`1 + \|y\|_\infty`; default 100 machine epsilons of the dtype.

    Returns:
        The preimages, shape ``(B, D)``.

    Raises:
        NonInvertibleMapError: a Newton step meets a singular Hessian (the potential is
            not strictly convex there).

    Warns:
        RuntimeWarning: The residual is still above the tolerance (or not finite) after
            ``iterations`` Newton iterations; the last iterate is returned.

    Example:
        >>> y = torch.randn(4, 2)
        >>> x = invert_gradient_map(lambda x: x.square().sum(-1), y)  # grad u = 2x
        >>> torch.allclose(x, y / 2)
        True
    """
    y = y.detach()
    x = y.clone()
    if tolerance is None:
        tolerance = 100 * torch.finfo(y.dtype).eps
    threshold = tolerance * (1 + y.abs().max().item())

    def residual_norm(points: Tensor) -> Tensor:
        return (gradient(potential, points, create_graph=False)[1] - y).norm(dim=-1)

    for iteration in range(iterations + 1):
        grad, hess = gradient_and_hessian(potential, x, create_graph=False)
        residual = grad - y
        largest = residual.abs().max().item()
        if largest <= threshold or iteration == iterations:
            break
        try:
            newton = torch.linalg.solve(hess, residual)
        except torch.linalg.LinAlgError as error:
            raise NonInvertibleMapError(
                "a transport map is not invertible: its potential's Hessian is singular at "
                "a point to invert (the potential needs a strictly convex term, "
                "network.strong_convexity > 0)"
            ) from error
        current = residual.norm(dim=-1)
        step = torch.ones_like(current)
        for _ in range(30):
            trial_norm = residual_norm(x - step[:, None] * newton)
            rejected = (trial_norm > (1 - 0.5 * step) * current) & (current > threshold)
            if not bool(rejected.any()):
                break
            step = torch.where(rejected, 0.5 * step, step)
        x = (x - step[:, None] * newton).detach()
    if not largest <= threshold:
        warnings.warn(
            f"invert_gradient_map: not converged after {iterations} Newton iterations; "
            f"largest residual |grad u(x) - y| = {largest:.3g} above the tolerance "
            f"{threshold:.3g}",
            RuntimeWarning,
            stacklevel=2,
        )
    return x
