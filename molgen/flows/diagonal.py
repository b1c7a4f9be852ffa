"""Element-wise scaling by factors kept between 1/e and e."""

from __future__ import annotations

import torch
from nflows.transforms.base import Transform

__all__ = ["Diagonal"]


class Diagonal(Transform):
    r"""Scales each feature: :math:`x = d \odot z` with :math:`d = e^{\tanh \tilde d}`.

    The factors stay in ``[1/e, e]`` so the layer and its inverse are well conditioned;
    :math:`\log|\det J| = \sum_i \tanh \tilde d_i`. Starts as the identity.

    References:
        Felardos (2022), thesis §3.2.2.

    Arguments:
        dim: number of features ``D``.

    Example:
        >>> layer = Diagonal(3)
        >>> x, logabsdet = layer(torch.ones(2, 3))
        >>> x.shape, logabsdet.shape
        (torch.Size([2, 3]), torch.Size([2]))
    """

    def __init__(self, dim: int):
        super().__init__()
        self.unconstrained_log_scale = torch.nn.Parameter(torch.zeros(dim))

    def _log_scale(self) -> torch.Tensor:
        return torch.tanh(self.unconstrained_log_scale)

    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None):
        """``z`` ``(B, D)`` -> ``(x, logabsdet)`` with shapes ``(B, D)``, ``(B,)``."""
        log_scale = self._log_scale()
        return z * log_scale.exp(), log_scale.sum().expand(z.shape[0])

    def inverse(self, x: torch.Tensor, context: torch.Tensor | None = None):
        """``x`` ``(B, D)`` -> ``(z, logabsdet)`` with shapes ``(B, D)``, ``(B,)``."""
        log_scale = self._log_scale()
        return x * (-log_scale).exp(), (-log_scale.sum()).expand(x.shape[0])
