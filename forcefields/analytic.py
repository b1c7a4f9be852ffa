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


CPU_CHUNK = 512
"""Configurations evaluated together on a CPU: the ``(T, chunk)`` temporaries of a
term then stay in cache, which is faster than one pass over a large batch."""


def _evaluate(x: torch.Tensor, terms: Sequence, with_gradient: bool):
    xt = component_major(x)
    if not with_gradient:
        return sum(term.evaluate(xt) for term in terms), None
    gradient = tuple(torch.zeros_like(component) for component in xt)
    energy = sum(term.evaluate(xt, gradient) for term in terms)
    return energy, from_component_major(gradient)


class _SummedEnergy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, terms: Sequence) -> torch.Tensor:
        with_gradient = ctx.needs_input_grad[0]
        chunks = x.split(CPU_CHUNK) if x.device.type == "cpu" else (x,)
        results = [_evaluate(chunk, terms, with_gradient) for chunk in chunks]
        energy = torch.cat([e for e, _ in results])
        if with_gradient:
            ctx.save_for_backward(torch.cat([g for _, g in results]))
        return energy

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_energy: torch.Tensor):
        (gradient,) = ctx.saved_tensors
        return grad_energy[:, None, None] * gradient, None


def summed_energy(x: torch.Tensor, terms: Sequence) -> torch.Tensor:
    """``Σ_terms U(x)``, ``(B,)`` kJ/mol, differentiable once in ``x`` ``(B, N, 3)`` nm."""
    return _SummedEnergy.apply(x, list(terms))
