"""The sub-network ``M`` of coupling blocks: two linear layers with a CELU between them."""

from __future__ import annotations

import torch

__all__ = ["Conditioner"]


class Conditioner(torch.nn.Module):
    r"""Feed-forward net ``Linear -> CELU -> Linear`` reading half the features and a context.

    The optional context vector is concatenated to the input. The output layer starts at
    zero (weights and bias), so a coupling block built on it starts as the identity; the
    bias of the output layer can be set afterwards (see :class:`SplineCoupling`).

    References:
        Felardos (2022), thesis §3.4 (two layers, hidden size 64 or 256, CELU).

    Arguments:
        in_features: number of conditioning features.
        out_features: number of outputs.
        hidden_features: width of the hidden layer.
        context_features: size of the context vector (0 for none).

    Example:
        >>> net = Conditioner(3, 4, hidden_features=8, context_features=2)
        >>> net(torch.randn(5, 3), torch.randn(5, 2)).shape
        torch.Size([5, 4])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden_features: int,
        context_features: int = 0,
    ):
        super().__init__()
        self.context_features = context_features
        self.hidden = torch.nn.Linear(in_features + context_features, hidden_features)
        self.activation = torch.nn.CELU()
        self.output = torch.nn.Linear(hidden_features, out_features)
        torch.nn.init.zeros_(self.output.weight)
        torch.nn.init.zeros_(self.output.bias)

    def forward(self, features: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        """``features`` ``(B, in)`` and ``context`` ``(B, C)`` -> ``(B, out)``."""
        if not self.context_features:
            return self.output(self.activation(self.hidden(features)))
        if context is None:
            raise ValueError(
                f"this conditioner needs a context of shape (B, {self.context_features})"
            )
        if context.shape[-1] != self.context_features:
            raise ValueError(
                f"context of width {context.shape[-1]}; this flow takes {self.context_features}"
            )
        features = torch.cat([features, context.expand(features.shape[0], -1)], dim=1)
        return self.output(self.activation(self.hidden(features)))
