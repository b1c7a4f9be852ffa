"""Exact log-determinant of the Hessian of a convex potential."""

from __future__ import annotations

import torch
from torch import Tensor

from .derivatives import hessian

__all__ = ["ExactLogDet"]


class ExactLogDet:
    r"""Exact :math:`\log\det\nabla^2 u(x)` by a dense Hessian and ``slogdet``.

    Costs :math:`D` backward passes and an :math:`O(D^3)` factorisation per sample; the
    result is differentiable with respect to the parameters of :math:`u`.

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
        sign, logabsdet = torch.linalg.slogdet(hessian(x, grad))
        return torch.where(sign > 0, logabsdet, torch.full_like(logabsdet, -torch.inf))
