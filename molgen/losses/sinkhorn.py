"""Debiased entropic optimal transport (Sinkhorn divergence) between point clouds (§8)."""

from __future__ import annotations

import math

import torch

from molgen.flows.flow import Flow
from molgen.losses.batch import Energy, require_sample_count

__all__ = ["entropic_transport", "sinkhorn_divergence", "sinkhorn_dd", "sinkhorn_df"]


def _squared_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    cross = x @ y.T
    return ((x**2).sum(1)[:, None] + (y**2).sum(1)[None, :] - 2.0 * cross).clamp(min=0.0)


def entropic_transport(
    x: torch.Tensor,
    y: torch.Tensor,
    log_a: torch.Tensor,
    log_b: torch.Tensor,
    epsilon: float = 0.01,
    iterations: int = 256,
    exclude_diagonal: bool = False,
) -> torch.Tensor:
    r"""Entropic transport cost :math:`W^\varepsilon` (eq. 72) between weighted clouds.

    ``x`` ``(n, D)`` with log-weights ``log_a`` ``(n,)``, ``y`` ``(m, D)`` with ``log_b``
    ``(m,)``; cost :math:`C_{ij} = \|x_i - y_j\|^2` (the thesis leaves the cost open), so
    ``epsilon`` is in squared coordinate units (nm² for molecules: 0.01 nm² is a blur
    of 1 Å²). At small ``epsilon`` relative to the spread of the clouds the iterations
    converge slowly, so the first half of the ``iterations`` anneal ε from the largest
    cost down to ``epsilon`` (ε-scaling); the value still depends on ``iterations`` where
    they are too few. Log-domain Sinkhorn iterations run without gradient; the value is
    the dual objective :math:`\sum a_i f_i + \sum b_j g_j` with one last differentiable
    update of ``f``, whose gradient in ``x`` and ``y`` is
    :math:`\sum_{ij} P_{ij} \nabla C_{ij}` at convergence. The weights are treated as
    constants. With ``exclude_diagonal`` (square problems only) a point may not be
    coupled to itself: :math:`C_{ii} = +\infty`. The entropy here is relative to
    :math:`a \otimes b`; it differs from eq. 71 by terms that depend on the weights only
    and cancel in :func:`sinkhorn_divergence`.
    """
    cost = _squared_distances(x, y)
    if exclude_diagonal:
        diagonal = torch.eye(cost.shape[0], dtype=torch.bool, device=cost.device)
        cost = cost.masked_fill(diagonal, math.inf)
    log_a, log_b = log_a.detach(), log_b.detach()

    def update_f(g: torch.Tensor, cost: torch.Tensor, blur: float) -> torch.Tensor:
        return -blur * torch.logsumexp(log_b[None, :] + (g[None, :] - cost) / blur, dim=1)

    with torch.no_grad():
        fixed_cost = cost.detach()
        g = torch.zeros_like(log_b)
        for blur in _annealed_epsilons(fixed_cost, epsilon, iterations):
            f = update_f(g, fixed_cost, blur)
            g = -blur * torch.logsumexp(log_a[:, None] + (f[:, None] - fixed_cost) / blur, 0)
    f = update_f(g, cost, epsilon)
    return (log_a.exp() * f).sum() + (log_b.exp() * g).sum()


def _annealed_epsilons(cost: torch.Tensor, epsilon: float, iterations: int) -> list[float]:
    """ε of each of ``iterations`` Sinkhorn updates: from the largest finite cost down to
    ``epsilon`` geometrically over the first half, then ``epsilon`` (ε-scaling, Schmitzer
    2019; Feydy et al. 2019). At a small ``epsilon`` plain iterations spread information
    over the cloud one blur length per update and stop far from the fixed point."""
    finite = cost[torch.isfinite(cost)]
    largest = float(finite.max()) if finite.numel() else epsilon
    steps = iterations // 2
    if largest <= epsilon or steps == 0:
        return [epsilon] * iterations
    ratio = (epsilon / largest) ** (1.0 / steps)
    return [largest * ratio**k for k in range(steps)] + [epsilon] * (iterations - steps)


def sinkhorn_divergence(
    x: torch.Tensor,
    y: torch.Tensor,
    log_a: torch.Tensor | None = None,
    log_b: torch.Tensor | None = None,
    epsilon: float = 0.01,
    iterations: int = 256,
    exclude_diagonal: bool = True,
) -> torch.Tensor:
    r"""Debiased Sinkhorn divergence, eq. 73.

    :math:`W^\varepsilon(\gamma,\beta) - \tfrac12 W^\varepsilon(\gamma,\gamma)
    - \tfrac12 W^\varepsilon(\beta,\beta)`.

    Uniform weights when ``log_a`` / ``log_b`` are omitted. With ``exclude_diagonal``
    (the thesis's choice) the autocorrelation term of a uniformly weighted cloud forbids
    self-coupling, so the divergence is near 0 for two independent samples of one
    distribution (and negative for two copies of the same cloud); without it, it is
    exactly 0 for identical clouds. A weighted cloud keeps its diagonal: a coupling of
    its weights with themselves that avoids it exists only when no weight exceeds ½, and
    importance weights often do (thesis eq. 22), where the iterations would not converge.

    Raises:
        ValueError: ``exclude_diagonal`` with a uniform cloud of one point.
    """
    options = {"epsilon": epsilon, "iterations": iterations}
    cross = entropic_transport(
        x, y, _uniform_if_none(log_a, x), _uniform_if_none(log_b, y), **options
    )
    self_x = _self_transport(x, log_a, exclude_diagonal, options)
    self_y = _self_transport(y, log_b, exclude_diagonal, options)
    return cross - 0.5 * self_x - 0.5 * self_y


def _uniform_if_none(log_weights: torch.Tensor | None, points: torch.Tensor) -> torch.Tensor:
    if log_weights is not None:
        return log_weights
    n = points.shape[0]
    return torch.full((n,), -math.log(n), dtype=points.dtype, device=points.device)


def _self_transport(
    points: torch.Tensor, log_weights: torch.Tensor | None, exclude_diagonal: bool, options: dict
) -> torch.Tensor:
    """:math:`W^\varepsilon` of a cloud with itself; the diagonal is excluded only for a
    uniformly weighted cloud (``log_weights`` is ``None``)."""
    exclude = exclude_diagonal and log_weights is None
    if exclude and points.shape[0] < 2:
        raise ValueError("a Sinkhorn divergence without self-coupling needs at least 2 points")
    log_weights = _uniform_if_none(log_weights, points)
    return entropic_transport(
        points, points, log_weights, log_weights, exclude_diagonal=exclude, **options
    )


def sinkhorn_dd(
    flow: Flow,
    beta_u_b: Energy | None,
    batch: torch.Tensor,
    *,
    epsilon: float = 0.01,
    iterations: int = 256,
) -> torch.Tensor:
    r"""Data-dependent OT loss, eq. 73 with uniform weights (§8.1).

    ``batch`` is data ``(m, D)`` from :math:`p_B`; as many points are generated through
    the forward pass (differentiated). ``beta_u_b`` is not used (pass ``None``).
    """
    x, _ = flow.sample(batch.shape[0])
    return sinkhorn_divergence(x, batch.to(x), epsilon=epsilon, iterations=iterations)


def sinkhorn_df(
    flow: Flow,
    beta_u_b: Energy,
    batch: int,
    *,
    epsilon: float = 0.01,
    iterations: int = 256,
) -> torch.Tensor:
    r"""Data-free OT loss, eq. 74: the reference cloud is generated and reweighted to :math:`p_B`.

    ``n`` points are generated through the forward pass (uniform weights, differentiated);
    an independent detached batch of ``n`` generated points serves as reference, with
    weights :math:`b_j \propto \tilde p_B / p_G` (softmax of the log-ratios). Drawing the
    reference separately (the thesis leaves this open) keeps a point from being compared
    with itself in the cross term.
    """
    n = require_sample_count(batch, "sinkhorn_df")
    x, _ = flow.sample(n)
    with torch.no_grad():
        reference, log_prob = flow.sample(n)
        log_b = torch.log_softmax(-beta_u_b(reference).to(log_prob) - log_prob, dim=0)
    return sinkhorn_divergence(x, reference, log_b=log_b, epsilon=epsilon, iterations=iterations)
