"""Batch weights: self-normalised importance weights ``p_B / p_G`` over a mini-batch."""

from __future__ import annotations

import torch

__all__ = ["batch_weights", "WEIGHT_SCHEMES"]

WEIGHT_SCHEMES = ("softmax", "std", "clamp")


def batch_weights(
    log_ratio: torch.Tensor,
    scheme: str = "softmax",
    temperature: float = 1.0,
    clamp: tuple[float, float] = (0.1, 10.0),
) -> torch.Tensor:
    r"""Detached weights ``(n,)`` summing to ``n`` from log-ratios ``r = U_G - beta U_B`` ``(n,)``.

    * ``"softmax"`` (eq. 21): :math:`w = n\,\mathrm{softmax}(r)`, i.e. proportional to
      :math:`\tilde p_B / p_G`; any constant in ``r`` cancels.
    * ``"std"`` (eq. 23): :math:`w = n\,\mathrm{softmax}(r / (s_{temp} \max(1, \sigma(r))))`
      with the population std :math:`\sigma` over the batch (``temperature`` is
      :math:`s_{temp}`); less peaky, biased.
    * ``"clamp"`` (eq. 24, read with footnote 44): :math:`n\,\mathrm{softmax}(r)` clamped to
      ``clamp`` times the uniform weight 1, then rescaled to sum ``n``.

    Points with :math:`r = -\infty` (:math:`\beta U_B = +\infty`) get weight 0 in every
    scheme; the statistics of ``"std"`` and the clamping use the other points. A NaN or
    :math:`+\infty` log-ratio (a NaN energy, :math:`\beta U_B = -\infty` or
    :math:`U_G = +\infty`) has no meaningful weight: every weight is then NaN, so the loss
    is NaN and the trainer skips the step; so is a batch whose every point has
    :math:`r = -\infty` (nothing left to weight).
    """
    if scheme not in WEIGHT_SCHEMES:
        raise ValueError(f"unknown weight scheme {scheme!r}; expected one of {WEIGHT_SCHEMES}")
    r = log_ratio.detach()
    n = r.shape[0]
    counted = r > -torch.inf
    if torch.isnan(r).any() or torch.isposinf(r).any() or not bool(counted.any()):
        return torch.full_like(r, torch.nan)
    weights = torch.zeros_like(r)
    rescale = n / int(counted.sum())
    weights[counted] = _weights_of(r[counted], scheme, temperature, clamp) * rescale
    return weights


def _weights_of(
    r: torch.Tensor, scheme: str, temperature: float, clamp: tuple[float, float]
) -> torch.Tensor:
    """Weights ``(m,)`` summing to ``m`` for ``m`` log-ratios, none of them ``-inf``."""
    m = r.shape[0]
    if scheme == "softmax":
        return m * torch.softmax(r, dim=0)
    if scheme == "std":
        spread = r.std(unbiased=False).clamp(min=1.0)
        return m * torch.softmax(r / (spread * temperature), dim=0)
    clamped = (m * torch.softmax(r, dim=0)).clamp(*clamp)
    return clamped * (m / clamped.sum())
