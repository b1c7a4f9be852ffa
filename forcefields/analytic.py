"""Autograd bridge for terms with analytic derivatives.

The terms compute their energy and ``∂U/∂x`` in one vectorised pass (see
:class:`forcefields.terms.base.EnergyTerm`); this function hands the gradient to
autograd, so ``torch.autograd.grad(U(x).sum(), x)`` and backpropagation into a
generator that produced ``x`` work without autograd recording every elementary
operation. First derivatives only: differentiating the gradient again (``create_graph=True``)
raises :class:`NotImplementedError` instead of silently treating it as a constant.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from forcefields.geometry import component_major, from_component_major

__all__ = ["refuse_second_derivatives", "summed_energy"]


CPU_CHUNK = 512
"""Configurations evaluated together on a CPU: the ``(T, chunk)`` temporaries of a
term then stay in cache, which is faster than one pass over a large batch."""


def refuse_second_derivatives(name: str) -> None:
    """Raise :class:`NotImplementedError` in the ``backward`` of ``name``, a function
    differentiable once, when autograd records it (a gradient taken with
    ``create_graph=True``); torch's ``once_differentiable`` would instead return a
    gradient that is silently constant."""
    if torch.is_grad_enabled():
        raise NotImplementedError(
            f"{name} is differentiable once: its gradient cannot be differentiated again "
            "(create_graph=True)"
        )


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
    def backward(ctx, grad_energy: torch.Tensor):
        refuse_second_derivatives("the forcefields energy")
        (gradient,) = ctx.saved_tensors
        return grad_energy[:, None, None] * gradient, None


def summed_energy(x: torch.Tensor, terms: Sequence) -> torch.Tensor:
    """``Σ_terms U(x)``, ``(B,)`` kJ/mol, differentiable once in ``x`` ``(B, N, 3)`` nm."""
    return _SummedEnergy.apply(x, list(terms))
