"""Composition of transforms with summed log-determinants."""

from __future__ import annotations

import torch
from nflows.transforms.base import Transform

__all__ = ["Composite"]


class Composite(Transform):
    r"""Applies transforms in order; :math:`\log|\det J| = \sum_l \log|\det J^{(l)}|`.

    ``forward`` runs the layers first to last, ``inverse`` last to first. Every layer
    receives the same context.

    References:
        Felardos (2022), thesis eq. 12.

    Arguments:
        transforms: layers following the ``forward``/``inverse`` protocol.

    Example:
        >>> from molgen.flows.bias import Bias
        >>> from molgen.flows.diagonal import Diagonal
        >>> flow = Composite(Diagonal(3), Bias(3))
        >>> z = torch.randn(2, 3)
        >>> torch.allclose(flow.inverse(flow(z)[0])[0], z)
        True
    """

    def __init__(self, *transforms: Transform):
        super().__init__()
        self.layers = torch.nn.ModuleList(transforms)

    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None):
        """``z`` ``(B, D)`` -> ``(x, logabsdet)`` with shapes ``(B, D)``, ``(B,)``."""
        total = z.new_zeros(z.shape[0])
        for layer in self.layers:
            z, logabsdet = layer(z, context)
            total = total + logabsdet
        return z, total

    def inverse(self, x: torch.Tensor, context: torch.Tensor | None = None):
        """``x`` ``(B, D)`` -> ``(z, logabsdet)`` with shapes ``(B, D)``, ``(B,)``."""
        total = x.new_zeros(x.shape[0])
        for layer in reversed(self.layers):
            x, logabsdet = layer.inverse(x, context)
            total = total + logabsdet
        return x, total
