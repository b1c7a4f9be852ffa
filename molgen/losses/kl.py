"""Kullback-Leibler losses: reverse KL by the forward pass, forward KL by the inverse pass."""

from __future__ import annotations

import torch

from molgen.flows.flow import Flow
from molgen.losses.batch import Energy, require_sample_count, weighted_log_ratio

__all__ = ["kl_x", "kl_z_dd", "kl_z_df"]


def kl_x(flow: Flow, beta_u_b: Energy, batch: int) -> torch.Tensor:
    r"""Reverse KL through the forward pass, eq. 16.

    Mean of :math:`\beta U_B(G(z)) + \log p_G(G(z))` over ``n`` latent draws.

    Equals :math:`KL(p_G \| p_B) - \log Z_B` in expectation. Eq. 16 writes
    :math:`-\log|\det J_G|` instead of :math:`\log p_G`; they differ by
    :math:`\log q_\mathcal N(z)`, which has no gradient. Both :math:`U_B` and
    :math:`G` are differentiated (the loss known to collapse onto one mode).
    """
    x, log_prob = flow.sample(require_sample_count(batch, "kl_x"))
    return (beta_u_b(x) + log_prob).mean()


def kl_z_dd(flow: Flow, beta_u_b: Energy | None, batch: torch.Tensor) -> torch.Tensor:
    r"""Forward KL on data through the inverse pass, eq. 17: mean of :math:`-\log p_G(x_B)`.

    Equals :math:`KL(p_B \| p_G) + H(p_B)`. Eq. 17 omits the constant
    :math:`\tfrac{D}{2}\log 2\pi` included here. ``batch`` is data ``(n, D)`` from
    :math:`p_B`; ``beta_u_b`` is not used (pass ``None``).
    """
    return -flow.log_prob(batch).mean()


def kl_z_df(
    flow: Flow,
    beta_u_b: Energy,
    batch: int | torch.Tensor,
    *,
    weights: str = "softmax",
    temperature: float = 1.0,
    clamp: tuple[float, float] = (0.1, 10.0),
) -> torch.Tensor:
    r"""Data-free forward KL with batch weights, eqs. 20-21 (variants eqs. 23, 24).

    Mean of :math:`w_i U_G(x^\ddagger_{G,i})` on detached generated points, with detached
    weights :math:`w \propto \tilde p_B / p_G` summing to ``n`` (see
    :func:`~molgen.losses.weights.batch_weights` for ``weights``, ``temperature`` and
    ``clamp``). Only :math:`U_G` (inverse pass) is differentiated. Here
    :math:`U_G = -\log p_G` includes the latent Gaussian's normaliser, so the value is
    eq. 20's plus :math:`\tfrac D2 \log 2\pi` (the weights average 1), a constant
    without gradient.
    """
    _, u_g, w = weighted_log_ratio(flow, beta_u_b, batch, weights, temperature, clamp)
    return (w * u_g).mean()
