"""Gradients, Hessians and Hessian-vector products of batched scalar potentials."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["gradient", "hessian", "hessian_vector_product"]

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
