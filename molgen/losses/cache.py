"""PL² with a cache of the most under-sampled points (§6.4.4)."""

from __future__ import annotations

import torch

from molgen.flows.flow import Flow
from molgen.losses.batch import Energy, log_ratio, require_sample_count
from molgen.losses.pairs import masked_pair_loss
from molgen.losses.weights import batch_weights

__all__ = ["UnderSampledCache", "pl2_cb"]


class UnderSampledCache:
    r"""Points carried from one step to the next: the most under-sampled of the last batch.

    "Most under-sampled" means the highest :math:`r = U_G - \beta U_B`, with :math:`U_G`
    recomputed under the current parameters (the thesis leaves the criterion open).

    References:
        Felardos (2022), thesis §6.4.4.

    Arguments:
        keep: fraction of each batch kept for the next step (the thesis keeps half).

    Example:
        >>> cache = UnderSampledCache(keep=0.5)
        >>> cache.points is None
        True
    """

    def __init__(self, keep: float = 0.5):
        if not 0.0 < keep < 1.0:
            raise ValueError(f"keep must lie in (0, 1), got {keep}")
        self.keep = keep
        self.points: torch.Tensor | None = None

    def update(self, points: torch.Tensor, log_ratio: torch.Tensor) -> None:
        r"""Keep the ``keep * n`` points ``(n, D)`` with the highest ``log_ratio`` ``(n,)``.

        Points of non-finite ``log_ratio`` are never kept (fewer are kept when too few are
        finite): one at :math:`r = +\infty` would stay the highest and make every later
        batch non-finite.
        """
        count = int(self.keep * points.shape[0])
        finite = torch.isfinite(log_ratio.detach())
        ranked = torch.argsort(log_ratio.detach()[finite], descending=True)
        self.points = points[finite][ranked[:count]].detach()

    def state_dict(self) -> dict[str, torch.Tensor | None]:
        """The cached points, for checkpoints."""
        return {"points": self.points}

    def load_state_dict(self, state: dict[str, torch.Tensor | None]) -> None:
        """Restore points saved by :meth:`state_dict`."""
        self.points = state["points"]


def pl2_cb(
    flow: Flow,
    beta_u_b: Energy,
    batch: int,
    *,
    cache: UnderSampledCache,
    weights: str = "softmax",
    temperature: float = 1.0,
    clamp: tuple[float, float] = (0.1, 10.0),
) -> torch.Tensor:
    r"""Masked PL² (eq. 50) whose differentiated points come from a cache (§6.4.4).

    The ``n`` differentiated points are the cached points plus fresh :math:`p_G` samples;
    the references ``j`` are the fresh samples only (they are distributed as :math:`p_G`,
    the cached ones are not), with detached :math:`p_B` batch weights. Afterwards the
    ``cache`` keeps the most under-sampled points of the batch. On the first call the
    cache is empty and this is :func:`~molgen.losses.pairs.pl2_gb`.
    """
    n = require_sample_count(batch, "pl2_cb")
    cached = cache.points
    n_cached = 0 if cached is None else cached.shape[0]
    with torch.no_grad():
        fresh = flow.sample(n - n_cached)[0]
    points = fresh if cached is None else torch.cat([cached.to(fresh), fresh])
    r, _ = log_ratio(flow, beta_u_b, points)
    reference = r[n_cached:].detach()
    loss = masked_pair_loss(r, reference, batch_weights(reference, weights, temperature, clamp))
    cache.update(points, r)
    return loss
