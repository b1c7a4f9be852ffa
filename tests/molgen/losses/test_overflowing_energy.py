"""One point whose target energy overflows to +inf must not make the batch's loss NaN.

Such a point has r = U_G - beta U_B = -inf: infinitely over-sampled. The inverse-pass
losses leave it out of their batch statistics (K, weights, references), so the loss on a
batch with it is an exact function of the loss on the batch without it.
"""

from __future__ import annotations

import pytest
import torch

from molgen.losses import (
    UnderSampledCache,
    batch_weights,
    kl_z_df,
    l2_plus,
    pl2_bb,
    pl2_gb,
    pl2_gg,
)
from tests.molgen.losses.gaussian import gaussian_flow, target_energy


def _overflowing_energy(x: torch.Tensor) -> torch.Tensor:
    """:func:`target_energy`, but +inf for the points with x_0 > 100."""
    energy = target_energy(x)
    return torch.where(x[:, 0] > 100.0, torch.inf, energy)


@pytest.fixture
def batches():
    flow = gaussian_flow(torch.tensor([1.2, 0.9]), torch.tensor([0.3, -0.8]))
    points = flow.sample(32)[0].detach()
    far = torch.tensor([[150.0, 0.0]], dtype=points.dtype)
    return flow, points, torch.cat([points, far])


# With n finite points and one at r = -inf, l2_plus and pl2_gb average over n + 1 points of
# which one contributes 0 (and the weights of the n are rescaled to sum n + 1), so the
# loss is n / (n + 1) times the loss without the point; pl2_bb's two sums scale together
# and it is unchanged, as is pl2_gg, which drops the point. Both sides are the same
# float64 arithmetic: 1e-12 relative.
@pytest.mark.parametrize("loss", [l2_plus, pl2_gb])
def test_a_point_at_infinite_energy_is_left_out(batches, loss):
    flow, finite, with_far = batches
    n = finite.shape[0]
    expected = loss(flow, _overflowing_energy, finite) * n / (n + 1)
    value = loss(flow, _overflowing_energy, with_far)
    assert torch.isfinite(value)
    torch.testing.assert_close(value, expected, rtol=1e-12, atol=0.0)
    value.backward()
    assert all(torch.isfinite(p.grad).all() for p in flow.parameters())


@pytest.mark.parametrize("loss", [pl2_bb, pl2_gg])
def test_pair_variance_ignores_a_point_at_infinite_energy(batches, loss):
    flow, finite, with_far = batches
    value = loss(flow, _overflowing_energy, with_far)
    torch.testing.assert_close(value, loss(flow, _overflowing_energy, finite), rtol=1e-12, atol=0.0)
    value.backward()
    assert all(torch.isfinite(p.grad).all() for p in flow.parameters())


@pytest.mark.parametrize("scheme", ["softmax", "std", "clamp"])
def test_batch_weights_give_an_infinitely_over_sampled_point_no_weight(scheme):
    r = torch.tensor([0.3, -1.0, 2.0, -torch.inf, 0.5], dtype=torch.float64)
    weights = batch_weights(r, scheme)
    assert weights[3] == 0.0
    assert torch.isfinite(weights).all()
    # the others keep their relative weights and the total stays n (the docstring's contract)
    others = batch_weights(r[[0, 1, 2, 4]], scheme)
    torch.testing.assert_close(weights[[0, 1, 2, 4]], others * 5 / 4, rtol=1e-12, atol=0.0)
    torch.testing.assert_close(weights.sum(), torch.tensor(5.0, dtype=torch.float64))


def test_the_weights_of_a_large_float64_batch_sum_to_n_to_round_off():
    # 999 finite points and one at r = -inf: the rescaling 1000/999 must be float64
    # (in float32 the sum is off by about 6e-7); 1e-12 is float64 round-off on 1000 terms.
    r = torch.linspace(-3.0, 3.0, 1000, dtype=torch.float64)
    r[17] = -torch.inf
    torch.testing.assert_close(
        batch_weights(r).sum(), torch.tensor(1000.0, dtype=torch.float64), rtol=1e-12, atol=0.0
    )


@pytest.mark.parametrize("bad", [torch.inf, torch.nan])
@pytest.mark.parametrize("scheme", ["softmax", "std", "clamp"])
def test_a_log_ratio_without_a_meaningful_weight_makes_every_weight_nan(scheme, bad):
    r = torch.tensor([0.3, -1.0, bad, 0.5], dtype=torch.float64)
    assert torch.isnan(batch_weights(r, scheme)).all()


def _energy_minus_infinity_at_first_point(x: torch.Tensor) -> torch.Tensor:
    energy = target_energy(x).clone()
    energy[0] = -torch.inf
    return energy


@pytest.mark.parametrize("loss", [pl2_bb, pl2_gb, kl_z_df])
def test_a_point_at_minus_infinite_energy_makes_the_weighted_loss_nan_not_zero(batches, loss):
    # r = +inf gives no weights: the loss must be NaN, which the trainer skips, rather than
    # a finite value built from whatever points survive.
    flow, finite, _ = batches
    assert torch.isnan(loss(flow, _energy_minus_infinity_at_first_point, finite))


def test_the_cache_never_keeps_a_point_of_non_finite_log_ratio():
    cache = UnderSampledCache(keep=0.5)
    points = torch.arange(8.0, dtype=torch.float64)[:, None]
    r = torch.tensor([torch.inf, 3.0, torch.nan, 1.0, -torch.inf, 2.0, 0.0, -1.0])
    cache.update(points, r)
    assert cache.points[:, 0].tolist() == [1.0, 5.0, 3.0, 6.0]


@pytest.mark.parametrize("loss", [kl_z_df, pl2_bb, pl2_gb, l2_plus, pl2_gg])
def test_a_batch_whose_every_point_overflows_gives_a_nan_loss(batches, loss):
    # nothing is left to weight: a NaN loss, which the trainer skips (the batch weights
    # used to divide by the zero count of finite points)
    flow, _, _ = batches
    everything_far = torch.tensor([[150.0, 0.0], [200.0, 1.0]], dtype=torch.float64)
    assert torch.isnan(loss(flow, _overflowing_energy, everything_far))
