"""Dense input-convex network with low-rank convex quadratic input blocks."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .icnn import InputConvexNetwork

__all__ = ["ConvexQuadratic", "DenseICNN"]


class ConvexQuadratic(nn.Module):
    r"""Per-output convex quadratic :math:`q_j(x) = \sum_{r} (a_{jr}^\top x)^2 + (Bx + c)_j`.

    Each output is a rank-``rank`` positive semi-definite quadratic plus an affine part.

    Arguments:
        in_features: Input dimension :math:`D`.
        out_features: Number of outputs.
        rank: Rank of each quadratic form.

    Example:
        >>> q = ConvexQuadratic(3, 8, rank=2)
        >>> q(torch.randn(4, 3)).shape
        torch.Size([4, 8])
    """

    def __init__(self, in_features: int, out_features: int, rank: int):
        super().__init__()
        self.factors = nn.Parameter(torch.randn(out_features, rank, in_features) / in_features)
        self.affine = nn.Linear(in_features, out_features)

    def forward(self, x: Tensor) -> Tensor:
        """Returns shape ``(B, out_features)`` for ``x`` of shape ``(B, D)``."""
        projections = torch.einsum("ord,bd->bor", self.factors, x)
        return projections.square().sum(-1) + self.affine(x)

    def value_and_jacobian(self, x: Tensor) -> tuple[Tensor, Tensor]:
        r"""Returns the outputs ``(B, O)`` and their Jacobian with respect to ``x``,
        transposed to ``(B, D, O)``: :math:`2\sum_r (a_{or}^\top x)\, a_{or} + B_o`."""
        projections = torch.einsum("ord,bd->bor", self.factors, x)
        value = projections.square().sum(-1) + self.affine(x)
        jacobian = self.affine.weight.T
        for rank in range(self.factors.shape[1]):
            jacobian = jacobian + 2 * projections[:, None, :, rank] * self.factors[:, rank].T
        return value, jacobian

    def hessian_contraction(self, weights: Tensor) -> Tensor:
        r"""Returns :math:`\sum_o w_{bo} \nabla^2 q_o = 2 \sum_{o,r} w_{bo} a_{or} a_{or}^\top`,
        shape ``(B, D, D)``, for weights ``(B, O)``."""
        outer = torch.einsum("ord,ore->ode", self.factors, self.factors)
        dim = self.factors.shape[-1]
        return 2 * (weights @ outer.reshape(len(outer), dim * dim)).reshape(-1, dim, dim)


class DenseICNN(InputConvexNetwork):
    r"""Input-convex network whose every layer also sees a convex quadratic of the input.

    :math:`z_1 = g(q_1(x))`, :math:`z_{l+1} = g(W_l^+ z_l + q_{l+1}(x))` and
    :math:`u(x) = w^{+\top} z_L + \frac{s}{2}\|x\|^2`, where the :math:`q_l` are
    :class:`ConvexQuadratic` blocks. The quadratic blocks let one layer represent the
    affine maps of Gaussian flows (Ornstein-Uhlenbeck) exactly.

    References:
        | Wasserstein-2 Generative Networks (Korotin et al., 2021), App. B.2
        | Large-Scale Wasserstein Gradient Flows (Mokrov et al., 2021), §4.1

    Arguments:
        dim: Input dimension :math:`D`.
        hidden: Widths of the hidden layers.
        rank: Rank of the quadratic blocks.
        activation: ``softplus`` or ``celu``.
        strong_convexity: Coefficient :math:`s \ge 0` of the quadratic term.

    Example:
        >>> u = DenseICNN(2, hidden=(16, 16), rank=2)
        >>> u(torch.randn(5, 2)).shape
        torch.Size([5])
    """

    def __init__(
        self,
        dim: int,
        hidden: tuple[int, ...] = (64, 64),
        rank: int = 1,
        activation: str = "softplus",
        strong_convexity: float = 1e-6,
    ):
        super().__init__(
            [ConvexQuadratic(dim, width, rank) for width in hidden],
            hidden,
            activation,
            strong_convexity,
        )
