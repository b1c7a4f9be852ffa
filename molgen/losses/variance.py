"""Estimator-variance loss on log-ratios, masked with a detached mean."""

from __future__ import annotations

import torch

from molgen.flows.flow import Flow
from molgen.losses.batch import Energy, detached_points, log_ratio

__all__ = ["l2_plus"]


def l2_plus(flow: Flow, beta_u_b: Energy, batch: int | torch.Tensor) -> torch.Tensor:
    r"""Eq. 58: :math:`\frac1n \sum_i (r(x^\ddagger_{G,i}) - K^\ddagger)_+^2`.

    :math:`r = U_G - \beta U_B` on detached generated points and
    :math:`K^\ddagger = [\mathrm{mean}_j\, r_j]^\ddagger`. Only points above the mean
    (under-sampled relative to the batch) contribute, and only their :math:`U_G`
    (inverse pass) is differentiated, so :math:`p_G` is only ever pushed up; :math:`U_B`,
    the samples and :math:`K` carry no gradient. No importance weights.

    Arguments:
        flow: the generator :math:`G`.
        beta_u_b: reduced target energy, points ``(n, D)`` -> ``(n,)`` (dimensionless).
        batch: ``n`` points to draw, or points ``(n, D)`` already drawn from :math:`p_G`.

    Returns:
        The loss, a scalar in nats².

    Note:
        Without the mask, the expected gradient at detached samples of :math:`p_G` is
        :math:`-2\,\mathbb E_{p_G}[(r-K)\,\nabla_\theta \log p_G]
        = 2\,\nabla_\theta KL(p_G\|p_B)`, and :math:`K` estimates
        :math:`-KL(p_G\|p_B) + \log \mathcal Z_B` (§7.2). When a heavy lower tail of
        :math:`r` drags :math:`K` down, most of the batch lies above it, the mask removes
        little, and the loss follows the mode-seeking reverse KL (README, double wells).

        A point with :math:`\beta U_B = +\infty` (an overflowing energy) has
        :math:`r = -\infty`: infinitely over-sampled, it adds nothing to the sum and is left
        out of :math:`K`, so it does not make the whole batch non-finite.
    """
    x = detached_points(flow, batch)
    r, _ = log_ratio(flow, beta_u_b, x)
    detached = r.detach()
    mean = detached[detached > -torch.inf].mean()
    return (r - mean).clamp(min=0.0).pow(2).mean()
