"""Reverse KL with per-mode batch weights (§5.5)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.distributed as dist

from molgen.flows.flow import Flow
from molgen.losses.batch import Energy, require_sample_count

__all__ = [
    "FixedModeWeights",
    "RatioModeWeights",
    "AdaptiveModeWeights",
    "kl_x_reweighted",
    "normalized_mode_weights",
]


def _mode_counts(labels: torch.Tensor, n_modes: int) -> tuple[torch.Tensor, float]:
    """Count ``(K,)`` of the labels ``(B,)`` in each mode and the number of labels; under
    DistributedDataParallel, of the batches of every process together, so that the
    weights (and :class:`AdaptiveModeWeights`' multipliers) are the same on every rank."""
    counts = torch.bincount(labels, minlength=n_modes).to(torch.float64)
    counts_and_total = _summed_over_processes(
        torch.cat([counts, counts.new_tensor([labels.shape[0]])])
    )
    return counts_and_total[:-1], float(counts_and_total[-1])


def _summed_over_processes(values: torch.Tensor) -> torch.Tensor:
    """``values`` summed elementwise over the processes of a DistributedDataParallel run
    (in place); unchanged in a single process."""
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def _mode_fractions(labels: torch.Tensor, n_modes: int) -> torch.Tensor:
    """Fraction ``(K,)`` of the labels ``(B,)`` in each mode (of all processes together)."""
    counts, total = _mode_counts(labels, n_modes)
    return counts / total


def normalized_mode_weights(raw: torch.Tensor) -> torch.Tensor:
    """Unnormalised weights ``(B,)`` rescaled to average 1 over the batch (eq. 26); under
    DistributedDataParallel over the batches of every process together, so that the
    processes' averaged losses weight the modes as one batch would. All 0 when every
    weight is 0 (a batch wholly in modes of weight 0: a zero loss, not 0/0)."""
    total, count = _summed_over_processes(
        torch.stack([raw.sum(), raw.new_tensor(float(raw.shape[0]))])
    )
    return raw * (count / total) if total > 0 else torch.zeros_like(raw)


class FixedModeWeights:
    r"""Constant weight per mode, eq. 27 (e.g. ``(0.1, 1.0)`` for major, minor).

    Arguments:
        weights: one positive weight per mode label ``0 .. K-1``.

    Example:
        >>> FixedModeWeights([0.1, 1.0])(torch.tensor([0, 1, 1]))
        tensor([0.1000, 1.0000, 1.0000], dtype=torch.float64)
    """

    def __init__(self, weights: Sequence[float]):
        self.weights = torch.tensor(weights, dtype=torch.float64)

    def __call__(self, labels: torch.Tensor) -> torch.Tensor:
        """Unnormalised weights ``(B,)`` for mode labels ``(B,)``, on the labels' device."""
        return self.weights.to(labels.device)[labels]


class RatioModeWeights:
    r"""Target over observed mode fraction, eq. 29.

    :math:`\tilde w_i = r_{trg}^{k_i} / r_{out}^{k_i}` for a point of mode :math:`k_i`.

    Arguments:
        target: target fraction per mode label ``0 .. K-1`` (sums to 1).

    Example:
        >>> RatioModeWeights([0.5, 0.5])(torch.tensor([0, 0, 0, 1]))
        tensor([0.6667, 0.6667, 0.6667, 2.0000], dtype=torch.float64)
    """

    def __init__(self, target: Sequence[float]):
        self.target = torch.tensor(target, dtype=torch.float64)

    def __call__(self, labels: torch.Tensor) -> torch.Tensor:
        """Unnormalised weights ``(B,)`` for mode labels ``(B,)``; empty modes get no points."""
        counts, total = _mode_counts(labels, len(self.target))
        target = self.target.to(labels.device)
        return (target / (counts / total).clamp(min=1.0 / total))[labels]


class AdaptiveModeWeights:
    r"""Per-mode multipliers adapted every call, eq. 30.

    Each mode's multiplier starts at 1 and is multiplied by ``factor`` when the mode is
    under-represented in the batch (:math:`r_{out} < r_{trg}`), divided by it otherwise.

    Arguments:
        target: target fraction per mode label ``0 .. K-1``.
        factor: multiplicative step (1.01 in the thesis).

    Example:
        >>> scheme = AdaptiveModeWeights([0.5, 0.5])
        >>> scheme(torch.tensor([0, 0, 0, 1]))
        tensor([0.9901, 0.9901, 0.9901, 1.0100], dtype=torch.float64)
    """

    def __init__(self, target: Sequence[float], factor: float = 1.01):
        self.target = torch.tensor(target, dtype=torch.float64)
        self.factor = factor
        self.multipliers = torch.ones_like(self.target)

    def __call__(self, labels: torch.Tensor) -> torch.Tensor:
        """Update the multipliers from labels ``(B,)``, then return weights ``(B,)``."""
        observed = _mode_fractions(labels, len(self.target))
        target = self.target.to(labels.device)
        # float64 factors: python scalars in torch.where would round 1.01 to float32.
        factor = torch.tensor(self.factor, dtype=torch.float64, device=labels.device)
        step = torch.where(observed < target, factor, 1.0 / factor)
        self.multipliers = self.multipliers.to(labels.device) * step
        return self.multipliers[labels]

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The multipliers, for checkpoints."""
        return {"multipliers": self.multipliers}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore multipliers saved by :meth:`state_dict`."""
        self.multipliers = state["multipliers"]


def kl_x_reweighted(
    flow: Flow,
    beta_u_b: Energy,
    batch: int,
    *,
    mode_of: Callable[[torch.Tensor], torch.Tensor],
    mode_weights: Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    r"""Eq. 26: :math:`\frac1n\sum_i w_i [\beta U_B(G(z_i)) + \log p_G(G(z_i))]`.

    ``mode_of`` maps points ``(B, D)`` to integer mode labels ``(B,)``; ``mode_weights``
    (:class:`FixedModeWeights` eq. 27, :class:`RatioModeWeights` eq. 29,
    :class:`AdaptiveModeWeights` eq. 30) maps labels to unnormalised weights, which are
    rescaled to sum ``n`` and detached (all 0 when the batch lies wholly in modes of
    weight 0). Biased on purpose; see :func:`~molgen.losses.kl.kl_x`
    for the :math:`\log p_G` form.
    """
    x, log_prob = flow.sample(require_sample_count(batch, "kl_x_reweighted"))
    with torch.no_grad():
        w = normalized_mode_weights(mode_weights(mode_of(x).long()).to(log_prob))
    return (w * (beta_u_b(x) + log_prob)).mean()
