"""Rényi divergence of order 1/2 through the forward pass."""

from __future__ import annotations

import math

import torch

from molgen.flows.flow import Flow
from molgen.losses.batch import Energy, require_sample_count

__all__ = ["renyi_half"]


def renyi_half(flow: Flow, beta_u_b: Energy, batch: int) -> torch.Tensor:
    r"""Rényi divergence of order 1/2, eq. 38.

    :math:`-\log \frac1n \sum_i (\tilde p_B(x_i) / p_G(x_i))^{1/2}` at :math:`x_i = G(z_i)`.

    In expectation (up to the log-of-mean bias) this is
    :math:`\tfrac12 (RN_{1/2}(p_G, p_B) - \log Z_B)` (eq. 37f). Computed with a
    log-sum-exp, whose gradient is the softmax-weighted one of footnote 59. Both
    :math:`U_B` and :math:`G` are differentiated.
    """
    n = require_sample_count(batch, "renyi_half")
    x, log_prob = flow.sample(n)
    half_log_ratio = 0.5 * (-beta_u_b(x) - log_prob)
    return -(torch.logsumexp(half_log_ratio, dim=0) - math.log(n))
