"""Gradients, Hessians and Hessian-vector products of batched scalar potentials."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["gradient", "gradient_and_hessian", "hessian", "hessian_vector_product"]

Potential = Callable[[Tensor], Tensor]


def gradient(potential: Potential, x: Tensor, create_graph: bool = True) -> tuple[Tensor, Tensor]:
    """Returns ``(x, grad)``: a leaf copy of ``x`` that requires grad and :math:`\\nabla u(x)`.

    Arguments:
        potential: Batched scalar function, ``(B, D) -> (B,)``.
        x: Points, shape ``(B, D)``.
        create_graph: Keep the graph so that the gradient can be differentiated again.
    """
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        grad = torch.autograd.grad(potential(x).sum(), x, create_graph=create_graph)[0]
    return x, grad


def hessian_vector_product(
    x: Tensor, grad: Tensor, vector: Tensor, create_graph: bool = True
) -> Tensor:
    """Returns :math:`\\nabla^2 u(x_b)\\, v_b` per sample, shape ``(B, D)``.

    Arguments:
        x: Points that require grad, shape ``(B, D)``.
        grad: :math:`\\nabla u(x)` computed with ``create_graph=True``, shape ``(B, D)``.
        vector: Directions :math:`v_b`, shape ``(B, D)``.
        create_graph: Keep the graph (needed to differentiate w.r.t. parameters).
    """
    return torch.autograd.grad(
        (grad * vector).sum(), x, create_graph=create_graph, retain_graph=True
    )[0]


def hessian(x: Tensor, grad: Tensor, create_graph: bool = True) -> Tensor:
    """Returns the per-sample Hessian :math:`\\nabla^2 u(x_b)`, shape ``(B, D, D)``.

    Uses one backward pass per dimension (batched over samples, which the potential
    treats independently).
    """
    rows = [
        torch.autograd.grad(grad[:, i].sum(), x, create_graph=create_graph, retain_graph=True)[0]
        for i in range(x.shape[-1])
    ]
    return torch.stack(rows, dim=1)


def gradient_and_hessian(
    potential: Potential, x: Tensor, create_graph: bool = True
) -> tuple[Tensor, Tensor]:
    r"""Returns :math:`\nabla u(x)` ``(B, D)`` and :math:`\nabla^2 u(x)` ``(B, D, D)``.

    Uses the potential's own forward-mode ``gradient_and_hessian`` where it has one (the
    input-convex networks: no second backward pass), otherwise :func:`gradient` and
    :func:`hessian` by autograd.

    Arguments:
        potential: Batched scalar function, ``(B, D) -> (B,)``.
        x: Points, shape ``(B, D)``.
        create_graph: Keep the graph (needed to differentiate w.r.t. parameters); without
            it the results are detached.
    """
    analytic = getattr(potential, "gradient_and_hessian", None)
    if analytic is not None:
        with torch.set_grad_enabled(create_graph and torch.is_grad_enabled()):
            grad, hess = analytic(x.detach())
        return (grad, hess) if create_graph else (grad.detach(), hess.detach())
    leaf, grad = gradient(potential, x)
    hess = hessian(leaf, grad, create_graph=create_graph)
    return (grad, hess) if create_graph else (grad.detach(), hess.detach())
