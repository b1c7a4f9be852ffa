"""Fully input-convex neural network (FICNN) whose gradient is a transport map."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["FICNN", "InputConvexNetwork", "convex_activation"]


def convex_activation(name: str) -> nn.Module:
    """Returns a convex, non-decreasing activation by name (``softplus`` or ``celu``)."""
    activations = {"softplus": nn.Softplus, "celu": nn.CELU}
    if name not in activations:
        raise ValueError(f"activation must be one of {sorted(activations)}, got {name!r}")
    return activations[name]()


class InputConvexNetwork(nn.Module):
    r"""Shared body of the input-convex networks: :math:`z_1 = g(a_1(x))`,
    :math:`z_{l+1} = g(W_l^+ z_l + a_{l+1}(x))`, :math:`u(x) = w^{+\top} z_L + \frac{s}{2}\|x\|^2`.

    Convex in :math:`x` when every input block :math:`a_l` is convex, :math:`g` is convex
    and non-decreasing and the :math:`W_l`, :math:`w` are non-negative (restored by
    :meth:`clamp_weights` after every optimiser step).

    Arguments:
        input_blocks: one module ``(B, D) -> (B, width_l)`` per hidden layer.
        hidden: widths of the hidden layers.
        activation: ``softplus`` or ``celu``.
        strong_convexity: coefficient :math:`s \ge 0` of the quadratic term.
    """

    def __init__(
        self,
        input_blocks: list[nn.Module],
        hidden: tuple[int, ...],
        activation: str,
        strong_convexity: float,
    ):
        super().__init__()
        self.strong_convexity = strong_convexity
        self.activation = convex_activation(activation)
        self.input_layers = nn.ModuleList(input_blocks)
        self.hidden_weights = nn.ParameterList(
            nn.Parameter(torch.rand(width_out, width_in) / width_in)
            for width_in, width_out in zip(hidden[:-1], hidden[1:], strict=True)
        )
        self.output_weight = nn.Parameter(torch.rand(hidden[-1]) / hidden[-1])

    def forward(self, x: Tensor) -> Tensor:
        """Returns :math:`u(x)`, shape ``(B,)``, for ``x`` of shape ``(B, D)``."""
        z = self.activation(self.input_layers[0](x))
        for weight, layer in zip(self.hidden_weights, self.input_layers[1:], strict=True):
            z = self.activation(z @ weight.T + layer(x))
        quadratic = 0.5 * self.strong_convexity * x.square().sum(-1)
        return z @ self.output_weight + quadratic

    @torch.no_grad()
    def clamp_weights(self) -> None:
        """Projects the weights that must stay non-negative onto :math:`[0, \\infty)`."""
        for weight in self.hidden_weights:
            weight.clamp_(min=0.0)
        self.output_weight.clamp_(min=0.0)


class FICNN(InputConvexNetwork):
    r"""Fully input-convex network :math:`u(x)`, convex in :math:`x`.

    Layers follow :math:`z_{i+1} = g(W^{(z)}_i z_i + W^{(y)}_i x + b_i)` with
    :math:`W^{(z)}_i \ge 0` and :math:`g` convex and non-decreasing, so the output
    :math:`u(x) = w^\top z_L + \frac{s}{2}\|x\|^2` (with :math:`w \ge 0`) is convex and,
    for :math:`s > 0`, strongly convex. Non-negativity is restored by
    :meth:`clamp_weights` after every optimiser step.

    References:
        | Input Convex Neural Networks (Amos et al., 2017), eq. 2
        | Optimizing Functionals on the Space of Probabilities with Input Convex Neural
          Networks (Alvarez-Melis et al., 2021), eq. 30

    Arguments:
        dim: Input dimension :math:`D`.
        hidden: Widths of the hidden layers.
        activation: ``softplus`` or ``celu``.
        strong_convexity: Coefficient :math:`s \ge 0` of the quadratic term.

    Example:
        >>> u = FICNN(2, hidden=(16, 16))
        >>> u(torch.randn(5, 2)).shape
        torch.Size([5])
    """

    def __init__(
        self,
        dim: int,
        hidden: tuple[int, ...] = (64, 64),
        activation: str = "softplus",
        strong_convexity: float = 1e-6,
    ):
        super().__init__(
            [nn.Linear(dim, width) for width in hidden], hidden, activation, strong_convexity
        )
