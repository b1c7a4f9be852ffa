"""Reflection through a trainable hyperplane."""

from __future__ import annotations

import torch
from nflows.transforms.base import Transform

__all__ = ["Householder"]


class Householder(Transform):
    r"""Householder reflection :math:`x = (I - 2 v v^\top / v^\top v) z`.

    The reflection is its own inverse and :math:`\log|\det J| = 0`. The vector ``v``
    starts random (a reflection is never close to the identity).

    References:
        Felardos (2022), thesis §3.2.3.

    Arguments:
        dim: number of features ``D``.

    Example:
        >>> layer = Householder(3)
        >>> z = torch.randn(2, 3)
        >>> x, _ = layer(z)
        >>> torch.allclose(layer.inverse(x)[0], z, atol=1e-6)
        True
    """

    def __init__(self, dim: int):
        super().__init__()
        self.normal = torch.nn.Parameter(torch.randn(dim))

    def _reflect(self, values: torch.Tensor) -> torch.Tensor:
        unit = self.normal / self.normal.norm()
        return values - 2.0 * (values @ unit)[:, None] * unit

    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None):
        """``z`` ``(B, D)`` -> ``(x, logabsdet)`` with shapes ``(B, D)``, ``(B,)``."""
        return self._reflect(z), z.new_zeros(z.shape[0])

    def inverse(self, x: torch.Tensor, context: torch.Tensor | None = None):
        """``x`` ``(B, D)`` -> ``(z, logabsdet)`` with shapes ``(B, D)``, ``(B,)``."""
        return self._reflect(x), x.new_zeros(x.shape[0])
