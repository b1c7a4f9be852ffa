"""Convex potential with a learnable quadratic part, initialised to the identity map."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["QuadraticResidual"]


class QuadraticResidual(nn.Module):
    r"""Adds a learnable convex quadratic to an input-convex network.

    :math:`u(x) = \frac12 x^\top L L^\top x + c^\top x + n(x)` where :math:`n` is an
    input-convex network. At construction :math:`L = I`, :math:`c = 0` and the output
    weights of :math:`n` are zero, so :math:`\nabla u` is exactly the identity map. The
    quadratic part represents affine transport (all Gaussian-to-Gaussian steps, e.g.
    Ornstein-Uhlenbeck) exactly; :math:`n` adds the non-linear part (its own strong-convexity
    term, if any, shifts the initial map by :math:`s x`).

    Arguments:
        network: Input-convex network with ``output_weight`` and ``clamp_weights``.
        dim: Input dimension :math:`D`.

    Example:
        >>> from molgen.jko import FICNN, gradient
        >>> u = QuadraticResidual(FICNN(3, (8, 8)), 3)
        >>> x = torch.randn(4, 3)
        >>> torch.allclose(gradient(u, x)[1], x, atol=1e-5)
        True
    """

    def __init__(self, network: nn.Module, dim: int):
        super().__init__()
        self.network = network
        self.factor = nn.Parameter(torch.eye(dim))
        self.linear = nn.Parameter(torch.zeros(dim))
        with torch.no_grad():
            network.output_weight.zero_()

    def forward(self, x: Tensor) -> Tensor:
        """Returns :math:`u(x)`, shape ``(B,)``, for ``x`` of shape ``(B, D)``."""
        projected = x @ self.factor
        return 0.5 * projected.square().sum(-1) + x @ self.linear + self.network(x)

    def gradient_and_hessian(self, x: Tensor) -> tuple[Tensor, Tensor]:
        r"""Returns :math:`\nabla u(x)` ``(B, D)`` and :math:`\nabla^2 u(x)` ``(B, D, D)``
        analytically (see ``InputConvexNetwork.gradient_and_hessian``)."""
        gram = self.factor @ self.factor.T
        grad, hessian = self.network.gradient_and_hessian(x)
        return grad + x @ gram + self.linear, hessian + gram

    def affine_parameters(self) -> list[nn.Parameter]:
        """The quadratic part's factor :math:`L` ``(D, D)`` and linear term :math:`c` ``(D,)``."""
        return [self.factor, self.linear]

    def clamp_weights(self) -> None:
        """Projects the network's non-negative weights onto :math:`[0, \\infty)`."""
        self.network.clamp_weights()
