"""Round-off: float32 losses whose log-ratios carry a large constant, exact mode-weight steps."""

from __future__ import annotations

import pytest
import torch

from molgen.losses import AdaptiveModeWeights, batch_weights, log_ratio, pl2_bb
from tests.molgen.losses.gaussian import TARGET_MEAN, TARGET_STD, gaussian_flow, target_energy

# r = U_G - beta U_B carries -log Z_B, which is thousands of nats for a molecule.
OFFSET = 1.0e4


def _offset_energy(x: torch.Tensor) -> torch.Tensor:
    return target_energy(x) - OFFSET


def test_pl2_bb_in_float32_with_a_large_log_normaliser_matches_the_double_sum():
    flow64 = gaussian_flow(TARGET_STD / 1.3, TARGET_MEAN + 0.2)
    torch.manual_seed(0)
    with torch.no_grad():
        x64 = flow64.sample(512)[0]
    r, _ = log_ratio(flow64, _offset_energy, x64)
    w = batch_weights(r)
    pairs = (r[:, None] - r[None, :]) ** 2
    expected = (w[:, None] * w[None, :] * pairs).mean().item()
    flow32 = gaussian_flow(TARGET_STD / 1.3, TARGET_MEAN + 0.2).float()
    value = pl2_bb(flow32, _offset_energy, x64.float()).item()
    # float32 log-ratios near 1e4 are exact to ~1e-3 nats; the loss is of order 1. The
    # expanded form 2(mean(w r^2) - mean(w r)^2) subtracts two numbers near 1e8 and is
    # off by more than the loss itself.
    assert value == pytest.approx(expected, rel=1e-2)


def test_adaptive_mode_weights_step_by_exactly_the_factor():
    scheme = AdaptiveModeWeights([0.5, 0.5], factor=1.01)
    labels = torch.tensor([0, 0, 0, 1])
    for _ in range(100):
        scheme(labels)
    # 100 steps down for the over-represented mode, 100 up for the other, in float64.
    expected = [1.01**-100, 1.01**100]
    assert scheme.multipliers.tolist() == pytest.approx(expected, rel=1e-12)
