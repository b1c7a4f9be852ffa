"""Exact log-determinant of the Hessian of a convex potential."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .derivatives import gradient_and_hessian, hessian

__all__ = ["ExactLogDet"]


class ExactLogDet:
    r"""Exact :math:`\log\det\nabla^2 u(x)` by a dense Hessian and ``slogdet``.

    Costs one forward-mode pass (input-convex networks) or :math:`D` backward passes and an
    :math:`O(D^3)` factorisation per sample; the result is differentiable with respect to
    the parameters of :math:`u`.

    References:
        | Large-Scale Wasserstein Gradient Flows (Mokrov et al., 2021), §3.1

    Example:
        >>> from molgen.jko.derivatives import gradient
        >>> x, grad = gradient(lambda x: 0.5 * x.square().sum(-1), torch.randn(4, 3))
        >>> ExactLogDet()(x, grad).detach()
        tensor([0., 0., 0., 0.])
    """

    def __call__(self, x: Tensor, grad: Tensor) -> Tensor:
        """Returns the log-determinants, shape ``(B,)``.

        Arguments:
            x: Points that require grad, shape ``(B, D)``.
            grad: :math:`\\nabla u(x)` computed with ``create_graph=True``, shape ``(B, D)``.
        """
        return self.of_hessian(hessian(x, grad))

    def map_and_logdet(
        self, potential: Callable[[Tensor], Tensor], x: Tensor, create_graph: bool = True
    ) -> tuple[Tensor, Tensor]:
        """Returns the map :math:`\\nabla u(x)` ``(B, D)`` and the log-determinants ``(B,)``
        from one :func:`~molgen.jko.derivatives.gradient_and_hessian` call.

        Arguments:
            potential: Batched convex potential, ``(B, D) -> (B,)``.
            x: Points, shape ``(B, D)``.
            create_graph: Keep the graph to the potential's parameters.
        """
        grad, hess = gradient_and_hessian(potential, x, create_graph)
        return grad, self.of_hessian(hess)

    @staticmethod
    def of_hessian(hess: Tensor) -> Tensor:
        """Returns :math:`\\log\\det` of Hessians ``(B, D, D)``, ``-inf`` where not positive."""
        sign, logabsdet = torch.linalg.slogdet(hess)
        return torch.where(sign > 0, logabsdet, torch.full_like(logabsdet, -torch.inf))
