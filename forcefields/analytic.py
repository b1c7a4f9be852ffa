"""Autograd bridge for terms with analytic derivatives.

The terms compute their energy and ``∂U/∂x`` in one vectorised pass (see
:class:`forcefields.terms.base.EnergyTerm`); this function hands the gradient to
autograd, so ``torch.autograd.grad(U(x).sum(), x)`` and backpropagation into a
generator that produced ``x`` work without autograd recording every elementary
operation. First derivatives only: a second backward pass raises.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.autograd.function import once_differentiable

from forcefields.geometry import component_major, from_component_major

__all__ = ["summed_energy"]


class _SummedEnergy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, terms: Sequence) -> torch.Tensor:
        xt = component_major(x)
        if not ctx.needs_input_grad[0]:
            return sum(term.evaluate(xt) for term in terms)
        gradient = tuple(torch.zeros_like(component) for component in xt)
        energy = sum(term.evaluate(xt, gradient) for term in terms)
        ctx.save_for_backward(from_component_major(gradient))
        return energy

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_energy: torch.Tensor):
        (gradient,) = ctx.saved_tensors
        return grad_energy[:, None, None] * gradient, None


def summed_energy(x: torch.Tensor, terms: Sequence) -> torch.Tensor:
    """``Σ_terms U(x)``, ``(B,)`` kJ/mol, differentiable once in ``x`` ``(B, N, 3)`` nm."""
    return _SummedEnergy.apply(x, list(terms))
