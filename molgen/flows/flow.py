"""A generator: standard normal latent variable pushed through an invertible transform."""

from __future__ import annotations

import math

import torch
from nflows.transforms.base import Transform

from molgen.finite_rows import on_finite_rows

__all__ = ["Flow"]


class Flow(torch.nn.Module):
    r"""Distribution :math:`p_G` of :math:`x = G(z)`, :math:`z \sim \mathcal N(0, I_D)`.

    ``transform.forward`` is the generator :math:`G`, ``transform.inverse`` is
    :math:`F = G^{-1}`. Densities follow the change of variables,
    :math:`\log p_G(x) = \log q_\mathcal N(F(x)) + \log|\det \partial F / \partial x|`,
    and the energy of generation is :math:`U_G = -\log p_G` (no temperature factor).

    References:
        Felardos (2022), thesis §3.1, eq. 11 and eq. 41.

    Arguments:
        transform: an invertible map following the ``forward``/``inverse`` protocol.
        dim: number of features ``D``.

    Example:
        >>> from molgen.flows.presets import double_well_stack
        >>> flow = Flow(double_well_stack(4, width=8, repeats=1), dim=4)
        >>> x, log_prob = flow.sample(5)
        >>> torch.allclose(flow.log_prob(x), log_prob, atol=1e-5)
        True
    """

    def __init__(self, transform: Transform, dim: int):
        super().__init__()
        self.transform = transform
        self.dim = dim

    @property
    def latent_dim(self) -> int:
        """Dimension of the latent ``z`` (equal to ``dim`` for a flow)."""
        return self.dim

    def _base_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return -0.5 * (z**2).sum(dim=1) - 0.5 * self.dim * math.log(2.0 * math.pi)

    def _reference(self) -> torch.Tensor:
        """A tensor whose dtype and device the latents take: the first parameter, else the
        first floating-point buffer (a flow of fixed layers), else float32 on the CPU."""
        floating = (buffer for buffer in self.buffers() if buffer.is_floating_point())
        return next(iter(self.parameters()), next(floating, torch.empty(0)))

    def sample(
        self,
        n: int,
        context: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``n`` points by the forward pass (differentiable in the parameters).

        Returns ``x`` ``(n, D)`` and ``log_prob`` ``(n,)`` (nats). ``context`` is ``(n, C)``
        or ``(C,)`` for conditional transforms.
        """
        reference = self._reference()
        z = torch.randn(
            n, self.dim, generator=generator, dtype=reference.dtype, device=reference.device
        )
        return self.sample_from_latent(z, context)

    def sample_from_latent(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x = G(z)`` ``(B, D)`` and ``log p_G(x)`` ``(B,)`` for latents ``z`` ``(B, D)``."""
        x, logabsdet = self.transform(z, _batched(context, z.shape[0]))
        return x, self._base_log_prob(z) - logabsdet

    def log_prob(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        """``log p_G(x)`` ``(B,)`` by the inverse pass, for ``x`` ``(B, D)``; NaN for a
        point (or context) with a NaN or infinite value, which the spline layers'
        inverse would otherwise refuse for the whole batch."""
        return on_finite_rows(self._log_prob, x, _batched(context, x.shape[0]))

    def _log_prob(self, x: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
        z, logabsdet = self.transform.inverse(x, context)
        return self._base_log_prob(z) + logabsdet

    def energy_of_generation(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> torch.Tensor:
        """:math:`U_G(x) = -\\log p_G(x)` ``(B,)`` (eq. 41), by the inverse pass."""
        return -self.log_prob(x, context)


def _batched(context: torch.Tensor | None, batch: int) -> torch.Tensor | None:
    """``context`` as ``(batch, C)``: a single vector ``(C,)`` or ``(1, C)`` is repeated."""
    if context is None or (context.dim() == 2 and context.shape[0] != 1):
        return context
    return context.reshape(1, -1).expand(batch, -1)
