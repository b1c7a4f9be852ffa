"""Translation by a trainable vector."""

from __future__ import annotations

import torch
from nflows.transforms.base import Transform

__all__ = ["Bias"]


class Bias(Transform):
    r"""Adds a trainable vector: :math:`x = z + b`, :math:`\log|\det J| = 0`.

    References:
        Felardos (2022), thesis §3.2.1.

    Arguments:
        dim: number of features ``D``.

    Example:
        >>> layer = Bias(3)
        >>> x, logabsdet = layer(torch.zeros(2, 3))
        >>> logabsdet
        tensor([0., 0.])
    """

    def __init__(self, dim: int):
        super().__init__()
        self.shift = torch.nn.Parameter(torch.zeros(dim))

    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None):
        """``z`` ``(B, D)`` -> ``(x, logabsdet)`` with shapes ``(B, D)``, ``(B,)``."""
        return z + self.shift, z.new_zeros(z.shape[0])

    def inverse(self, x: torch.Tensor, context: torch.Tensor | None = None):
        """``x`` ``(B, D)`` -> ``(z, logabsdet)`` with shapes ``(B, D)``, ``(B,)``."""
        return x - self.shift, x.new_zeros(x.shape[0])
