r"""Mode drive: which way a loss's functional gradient moves the mass of one mode.

For a loss whose first variation with respect to :math:`\log p_G` (at fixed, detached
samples) is :math:`\delta\mathcal L = -c\,\mathbb E_{p_G}[\pi(x)\,\delta\log p_G(x)]`
with :math:`c > 0`, steepest descent in the Fisher metric changes
:math:`\log p_G` by :math:`\varepsilon\,(\pi - \mathbb E_{p_G}\pi)`, and the mass
:math:`P_A` of a mode :math:`A` by

.. math:: \delta P_A = \varepsilon\, P_A (1 - P_A)\,
   \big(\mathbb E_{p_G}[\pi \mid A] - \mathbb E_{p_G}[\pi \mid \neg A]\big).

The bracket is the *drive*: positive, the loss feeds the mode; negative, it drains it.
The pointwise push :math:`\pi` of each loss, with :math:`r = U_G - \beta U_B`:

* ``kl_x`` (eq. 16): the first variation of :math:`KL(p_G\|p_B)` in :math:`\log p_G` is
  :math:`-r` up to a constant (eq. 18), so :math:`\pi = r`;
* ``l2_plus`` (eq. 58): with the samples and :math:`K^\ddagger` detached,
  :math:`\delta\mathcal L = -2\,\mathbb E[(r - K)_+\,\delta\log p_G]`, so
  :math:`\pi = (r - K)_+` with :math:`K` the sample mean of :math:`r`.

A parametric flow follows the projection of this direction onto its tangent space, so
the drive predicts the first steps of a fine-tune, not its end. The two losses read a
mis-shaped mode differently: ``kl_x`` averages :math:`r` over the mode, so it drains a
mode narrower than the target's even at the right weight; ``l2_plus`` counts only the
parts of the mode where :math:`r` exceeds the batch mean, and feeds the same mode through
its under-dense tails.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

__all__ = ["PUSHES", "ModeDrive", "mode_drive", "mode_drives"]


def _kl_x_push(log_ratio: torch.Tensor) -> torch.Tensor:
    return log_ratio


def _l2_plus_push(log_ratio: torch.Tensor) -> torch.Tensor:
    # K as in l2_plus: points at r = -inf (overflowing energy) are left out of the mean.
    mean = log_ratio[log_ratio > -torch.inf].mean()
    return (log_ratio - mean).clamp(min=0.0)


PUSHES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "kl_x": _kl_x_push,
    "l2_plus": _l2_plus_push,
}
"""Pointwise push ``pi`` ``(n,)`` of each loss from the log-ratios ``r`` ``(n,)`` (nats)."""


@dataclass(frozen=True)
class ModeDrive:
    """Drive of one loss on one mode, in nats, with its Monte Carlo standard error.

    Attributes:
        value: mean push inside the mode minus mean push outside it.
        standard_error: from the two sample variances (independent samples).
    """

    value: float
    standard_error: float


def mode_drive(push: torch.Tensor, in_mode: torch.Tensor) -> ModeDrive:
    """Drive of the pointwise ``push`` ``(n,)`` on the mode marked by ``in_mode`` ``(n,)`` bool.

    Raises:
        ValueError: shapes differ, or fewer than two samples fall inside or outside the mode.
    """
    if push.shape != in_mode.shape or push.dim() != 1:
        raise ValueError(
            f"push {tuple(push.shape)} and in_mode {tuple(in_mode.shape)} must be (n,)"
        )
    inside, outside = push[in_mode].double(), push[~in_mode].double()
    if len(inside) < 2 or len(outside) < 2:
        raise ValueError(
            f"mode drive needs two samples on each side, got {len(inside)} in, {len(outside)} out"
        )
    value = inside.mean() - outside.mean()
    variance = inside.var() / len(inside) + outside.var() / len(outside)
    return ModeDrive(float(value), math.sqrt(float(variance)))


def mode_drives(log_ratio: torch.Tensor, in_mode: torch.Tensor) -> dict[str, ModeDrive]:
    """Drive of every loss in :data:`PUSHES` on one mode.

    Arguments:
        log_ratio: :math:`r = U_G - \\beta U_B` ``(n,)`` (nats) of samples of :math:`p_G`;
            any constant offset cancels.
        in_mode: ``(n,)`` bool, which samples lie in the mode.

    Returns:
        ``{loss name: ModeDrive}``.
    """
    return {name: mode_drive(push(log_ratio), in_mode) for name, push in PUSHES.items()}
