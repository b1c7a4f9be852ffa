"""Fixed affine map between unit-scale features and data coordinates."""

from __future__ import annotations

import torch
from nflows.transforms.base import Transform

__all__ = ["Standardize"]


class Standardize(Transform):
    r"""Fixed de-standardisation :math:`x = \mu + s \odot z` (inverse: standardisation).

    Placed last in a generator, it lets the trainable layers work on features of unit
    scale, as the thesis recommends (§5.4: standardise the data). ``mean`` and ``std``
    are buffers: saved with the model, never trained. :math:`\log|\det J| = \sum_i \log s_i`.

    References:
        Felardos (2022), thesis §5.4 (checklist: standardise the data).

    Arguments:
        mean: per-feature mean ``(D,)`` in data units.
        std: per-feature standard deviation ``(D,)`` in data units (finite and positive;
            otherwise :class:`ValueError` naming the offending features).

    Example:
        >>> data = 10.0 * torch.randn(1000, 3) + 5.0
        >>> layer = Standardize.fit(data)
        >>> z, _ = layer.inverse(data)
        >>> bool(z.std(dim=0).sub(1).abs().max() < 1e-5)
        True
    """

    def __init__(self, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        if mean.ndim != 1 or mean.shape != std.shape:
            # a scalar std would scale every feature but count its log only once
            raise ValueError(
                "Standardize needs a mean and a std of one value per feature, shape (D,); "
                f"got {tuple(mean.shape)} and {tuple(std.shape)}"
            )
        bad = (~(torch.isfinite(std) & (std > torch.finfo(std.dtype).tiny))).nonzero().flatten()
        if len(bad) > 0:
            raise ValueError(
                "Standardize needs a finite, positive std for every feature; feature(s) "
                f"{bad[:10].tolist()} have std {std[bad[:10]].tolist()}"
            )
        self.register_buffer("mean", mean.clone())
        self.register_buffer("std", std.clone())

    @classmethod
    def fit(cls, data: torch.Tensor) -> Standardize:
        """Mean and (unbiased) std of ``data`` ``(N, D)`` per feature; ``N >= 2`` rows."""
        if data.ndim != 2 or data.shape[0] < 2:
            raise ValueError(
                f"Standardize.fit: expected data of shape (N >= 2, D), got {tuple(data.shape)}"
            )
        return cls(data.mean(dim=0), data.std(dim=0))

    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None):
        """``z`` ``(B, D)`` -> ``(x, logabsdet)`` with shapes ``(B, D)``, ``(B,)``."""
        logabsdet = self.std.log().sum().expand(z.shape[0])
        return self.mean + self.std * z, logabsdet

    def inverse(self, x: torch.Tensor, context: torch.Tensor | None = None):
        """``x`` ``(B, D)`` -> ``(z, logabsdet)`` with shapes ``(B, D)``, ``(B,)``."""
        logabsdet = -self.std.log().sum().expand(x.shape[0])
        return (x - self.mean) / self.std, logabsdet
