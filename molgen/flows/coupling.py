"""Coupling blocks: one half of the features is transformed, conditioned on the other half."""

from __future__ import annotations

import torch
from nflows.transforms.base import Transform

from molgen.flows.conditioner import Conditioner

__all__ = ["Coupling", "AdditiveCoupling", "MultiplicativeCoupling"]

_HALVES = ("first", "second")


class Coupling(Transform):
    r"""Base class: split ``(B, D)`` features into the first ``D // 2`` and the rest.

    The half named by ``transformed`` is changed element-wise with parameters
    ``M(other half, context)``; the other half passes through. Subclasses define
    :meth:`_elementwise` and how many parameters each transformed feature needs.

    References:
        Felardos (2022), thesis §3.2.4; conditional version §9.2.

    Arguments:
        dim: number of features ``D``.
        transformed: ``"first"`` or ``"second"`` half.
        hidden_features: width of the CELU conditioner ``M``.
        context_features: size of the optional context vector (0 for none).
    """

    parameters_per_feature = 1

    def __init__(
        self,
        dim: int,
        transformed: str = "first",
        hidden_features: int = 64,
        context_features: int = 0,
    ):
        super().__init__()
        if transformed not in _HALVES:
            raise ValueError(f"transformed must be one of {_HALVES}, got {transformed!r}")
        if dim < 2:
            raise ValueError(f"a coupling layer needs dim >= 2 (one half each side), got {dim}")
        self.dim = dim
        self.transformed = transformed
        first = dim // 2
        self.transformed_features = first if transformed == "first" else dim - first
        self.conditioner = Conditioner(
            dim - self.transformed_features,
            self.transformed_features * self.parameters_per_feature,
            hidden_features,
            context_features,
        )

    def _split(self, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        first, second = values[:, : self.dim // 2], values[:, self.dim // 2 :]
        return (first, second) if self.transformed == "first" else (second, first)

    def _join(self, changed: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
        pieces = [changed, kept] if self.transformed == "first" else [kept, changed]
        return torch.cat(pieces, dim=1)

    def _elementwise(self, values: torch.Tensor, params: torch.Tensor, inverse: bool):
        raise NotImplementedError

    def _couple(self, values: torch.Tensor, context: torch.Tensor | None, inverse: bool):
        changed, kept = self._split(values)
        params = self.conditioner(kept, context)
        params = params.reshape(
            values.shape[0], self.transformed_features, params.shape[1] // self.transformed_features
        )
        changed, logabsdet = self._elementwise(changed, params, inverse)
        return self._join(changed, kept), logabsdet

    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None):
        """``z`` ``(B, D)`` -> ``(x, logabsdet)`` with shapes ``(B, D)``, ``(B,)``."""
        return self._couple(z, context, inverse=False)

    def inverse(self, x: torch.Tensor, context: torch.Tensor | None = None):
        """``x`` ``(B, D)`` -> ``(z, logabsdet)`` with shapes ``(B, D)``, ``(B,)``."""
        return self._couple(x, context, inverse=True)


class AdditiveCoupling(Coupling):
    r"""Additive coupling :math:`x_a = z_a + M(z_b)`, :math:`\log|\det J| = 0`.

    References:
        Felardos (2022), thesis §3.2.4 and §3.4.

    Arguments: those of :class:`Coupling` (``dim``, ``transformed``, ``hidden_features``,
    ``context_features``).

    Example:
        >>> block = AdditiveCoupling(4, "second", hidden_features=8)
        >>> x, logabsdet = block(torch.randn(3, 4))
        >>> x.shape, logabsdet.shape
        (torch.Size([3, 4]), torch.Size([3]))
    """

    def _elementwise(self, values: torch.Tensor, params: torch.Tensor, inverse: bool):
        shift = params[..., 0]
        logabsdet = values.new_zeros(values.shape[0])
        return (values - shift if inverse else values + shift), logabsdet


class MultiplicativeCoupling(Coupling):
    r"""Multiplicative coupling :math:`x_a = z_a \odot e^{\tanh \tilde M(z_b)}`.

    :math:`\log|\det J| = \sum \tanh \tilde M(z_b)`; each factor stays in ``[1/e, e]``.

    References:
        Felardos (2022), thesis §3.2.4 and §3.4.

    Arguments: those of :class:`Coupling` (``dim``, ``transformed``, ``hidden_features``,
    ``context_features``).

    Example:
        >>> block = MultiplicativeCoupling(4, "first", hidden_features=8)
        >>> x, logabsdet = block(torch.randn(3, 4))
        >>> x.shape, logabsdet.shape
        (torch.Size([3, 4]), torch.Size([3]))
    """

    def _elementwise(self, values: torch.Tensor, params: torch.Tensor, inverse: bool):
        log_scale = torch.tanh(params[..., 0])
        if inverse:
            log_scale = -log_scale
        return values * log_scale.exp(), log_scale.sum(dim=1)
