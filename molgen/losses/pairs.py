"""PL² losses: squared differences of log-ratios over pairs of points (§6.3-6.4)."""

from __future__ import annotations

import torch

from molgen.flows.flow import Flow
from molgen.losses.batch import Energy, detached_points, log_ratio, weighted_log_ratio

__all__ = ["pl2_gg", "pl2_bb", "pl2_gb", "masked_pair_loss"]


def pl2_gg(flow: Flow, beta_u_b: Energy, batch: int | torch.Tensor) -> torch.Tensor:
    r"""Eq. 48: :math:`\frac1{n^2}\sum_{i,j} (r_i - r_j)^2`, both points drawn from :math:`p_G`.

    :math:`r = U_G - \beta U_B` on detached generated points; :math:`U_G` of both points is
    differentiated (inverse pass), :math:`U_B` is not. Computed as
    :math:`2\,\mathrm{Var}(r)`, which equals the double sum. A point whose target energy
    is :math:`+\infty` (:math:`r = -\infty`, where :math:`p_B` vanishes) is left out, as
    its weight 0 leaves it out of :func:`pl2_bb`; otherwise one such point makes the loss NaN.
    """
    r, _ = log_ratio(flow, beta_u_b, detached_points(flow, batch))
    r = r[r != -torch.inf]
    return 2.0 * (r - r.mean()).pow(2).mean()


def pl2_bb(
    flow: Flow,
    beta_u_b: Energy,
    batch: int | torch.Tensor,
    *,
    weights: str = "softmax",
    temperature: float = 1.0,
    clamp: tuple[float, float] = (0.1, 10.0),
) -> torch.Tensor:
    r"""Eq. 49: :math:`\frac1{n^2}\sum_{i,j} w_i w_j (r_i - r_j)^2`, points weighted to :math:`p_B`.

    Detached batch weights (``weights``, see :func:`~molgen.losses.weights.batch_weights`)
    summing to ``n``; the double sum is computed as the weighted variance
    :math:`\frac2n\sum_i w_i (r_i - \bar r_w)^2`, :math:`\bar r_w = \frac1n\sum_j w_j r_j`.
    Centring first matters in float32: ``r`` carries the offset :math:`\log Z_B`, and the
    expanded form :math:`2(\overline{w r^2} - \overline{w r}^2)` cancels catastrophically.
    """
    r, _, w = weighted_log_ratio(flow, beta_u_b, batch, weights, temperature, clamp)
    n, weighted = r.shape[0], w != 0
    r, w = r[weighted], w[weighted]
    centred = r - (w * r).sum() / n
    return 2.0 * (w * centred.pow(2)).sum() / n


def masked_pair_loss(
    log_ratio_trained: torch.Tensor, log_ratio_reference: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    r"""Eq. 50: :math:`\frac1{n m}\sum_{i,j} w_j \max(r_i - r_j^\ddagger, 0)^2`.

    ``log_ratio_trained`` ``(n,)`` is differentiated; ``log_ratio_reference`` ``(m,)`` and
    ``weights`` ``(m,)`` (summing to ``m``) are detached. A pair counts only when point
    ``i`` is under-sampled relative to reference ``j`` (:math:`r_i > r_j`). References of
    weight 0 are left out, so one at :math:`r_j = -\infty` does not make the sum NaN;
    NaN weights (see :func:`~molgen.losses.weights.batch_weights`) make it NaN.
    """
    n, m = log_ratio_trained.shape[0], log_ratio_reference.shape[0]
    weighted = weights != 0
    reference, weights = log_ratio_reference.detach()[weighted], weights.detach()[weighted]
    difference = log_ratio_trained[:, None] - reference[None, :]
    masked = difference.clamp(min=0.0).pow(2)
    return (masked * weights[None, :]).sum() / (n * m)


def pl2_gb(
    flow: Flow,
    beta_u_b: Energy,
    batch: int | torch.Tensor,
    *,
    weights: str = "softmax",
    temperature: float = 1.0,
    clamp: tuple[float, float] = (0.1, 10.0),
) -> torch.Tensor:
    r"""Eq. 50: masked PL² with trained points from :math:`p_G`, references weighted to :math:`p_B`.

    The same detached batch serves as differentiated points ``i`` (unweighted, their
    :math:`U_G` differentiated) and as reference points ``j`` (:math:`U_G^\ddagger`
    detached, batch weights :math:`w_j`). See :func:`masked_pair_loss`.
    """
    r, _, w = weighted_log_ratio(flow, beta_u_b, batch, weights, temperature, clamp)
    return masked_pair_loss(r, r, w)
