"""Rational-quadratic spline coupling (nflows' spline function, our conditioner)."""

from __future__ import annotations

import math

import torch
from nflows.transforms.splines.rational_quadratic import (
    DEFAULT_MIN_DERIVATIVE,
    unconstrained_rational_quadratic_spline,
)

from molgen.flows.coupling import Coupling

__all__ = ["SplineCoupling"]


class SplineCoupling(Coupling):
    r"""Coupling block whose element-wise map is a monotone rational-quadratic spline.

    Inside ``[-tail_bound, tail_bound]`` each transformed feature goes through a spline
    with ``bins`` knots whose widths, heights and inner derivatives come from the CELU
    conditioner; outside, the map is the identity. It starts as the identity (equal bins,
    unit derivatives). An option beyond the thesis stacks.

    References:
        Durkan et al. (2019), *Neural Spline Flows*; spline function from ``nflows``.
        Coupling structure as in Felardos (2022), thesis §3.2.4.

    Arguments:
        dim: number of features ``D``.
        transformed: ``"first"`` or ``"second"`` half.
        hidden_features: width of the conditioner.
        context_features: size of the optional context vector (0 for none).
        bins: number of spline bins.
        tail_bound: half-width of the interval where the spline acts.

    Example:
        >>> block = SplineCoupling(4, "first", hidden_features=8, bins=5, tail_bound=4.0)
        >>> x, logabsdet = block(torch.randn(3, 4))
        >>> x.shape, logabsdet.shape
        (torch.Size([3, 4]), torch.Size([3]))
    """

    def __init__(
        self,
        dim: int,
        transformed: str = "first",
        hidden_features: int = 64,
        context_features: int = 0,
        bins: int = 8,
        tail_bound: float = 5.0,
    ):
        self.bins = bins
        self.parameters_per_feature = 3 * bins - 1
        super().__init__(dim, transformed, hidden_features, context_features)
        self.tail_bound = tail_bound
        unit_derivative = math.log(math.expm1(1.0 - DEFAULT_MIN_DERIVATIVE))
        with torch.no_grad():
            bias = self.conditioner.output.bias.view(self.transformed_features, -1)
            bias[:, 2 * bins :] = unit_derivative

    def _elementwise(
        self, values: torch.Tensor, params: torch.Tensor, inverse: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        try:
            return self._spline(values, params, inverse)
        except AssertionError:
            # nflows asserts that the inverse's discriminant b² − 4ac is >= 0; float32
            # rounding makes it slightly negative for steep bins, which would end the
            # whole batch: such a batch is mapped in float64 instead
            if values.dtype == torch.float64:
                raise
            changed, logabsdet = self._spline(values.double(), params.double(), inverse)
            return changed.to(values.dtype), logabsdet.to(values.dtype)

    def _spline(
        self, values: torch.Tensor, params: torch.Tensor, inverse: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Spline of ``values`` ``(B, F)`` with ``params`` ``(B, F, 3 bins - 1)``: the mapped
        values and the log-determinant ``(B,)``."""
        bins = self.bins
        changed, logabsdet = unconstrained_rational_quadratic_spline(
            values,
            params[..., :bins],
            params[..., bins : 2 * bins],
            params[..., 2 * bins :],
            inverse=inverse,
            tails="linear",
            tail_bound=self.tail_bound,
        )
        return changed, logabsdet.sum(dim=1)
