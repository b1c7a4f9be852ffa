"""Loss values, masks and detaches checked against hand computations and brute force."""

from __future__ import annotations

import pytest
import torch

from molgen.losses import (
    AdaptiveModeWeights,
    FixedModeWeights,
    RatioModeWeights,
    UnderSampledCache,
    batch_weights,
    kl_x,
    kl_x_reweighted,
    kl_z_df,
    l2_plus,
    log_ratio,
    masked_pair_loss,
    pl2_bb,
    pl2_cb,
    pl2_gb,
    pl2_gg,
    renyi_half,
)
from tests.molgen.losses.gaussian import (
    TARGET_MEAN,
    TARGET_STD,
    gaussian_flow,
    log_normaliser,
    target_energy,
)


class ScaledTarget(torch.nn.Module):
    """The Gaussian target times a trainable factor, to see whether U_B gets a gradient."""

    def __init__(self):
        super().__init__()
        self.factor = torch.nn.Parameter(torch.ones((), dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.factor * target_energy(x)


def _mismatched_flow():
    return gaussian_flow(TARGET_STD / 1.3, TARGET_MEAN + 0.2)


def _points(n: int = 64, seed: int = 0) -> torch.Tensor:
    torch.manual_seed(seed)
    with torch.no_grad():
        return _mismatched_flow().sample(n)[0]


def test_values_at_the_optimum_are_the_documented_constants():
    flow = gaussian_flow(TARGET_STD, TARGET_MEAN)
    log_z = log_normaliser()
    # At p_G = p_B every sample has beta U_B + log p_G = -log Z_B exactly (round-off only).
    assert kl_x(flow, target_energy, 256).item() == pytest.approx(-log_z, abs=1e-10)
    assert renyi_half(flow, target_energy, 256).item() == pytest.approx(-0.5 * log_z, abs=1e-10)
    assert abs(l2_plus(flow, target_energy, 256).item()) < 1e-20
    assert abs(pl2_gg(flow, target_energy, 256).item()) < 1e-20


def test_masked_pair_loss_on_a_hand_built_pair():
    trained = torch.tensor([2.0, 0.0], dtype=torch.float64, requires_grad=True)
    weights = torch.tensor([1.0, 1.0], dtype=torch.float64)
    loss = masked_pair_loss(trained, trained, weights)
    # Pairs (i, j): (0, 1) gives 2^2 = 4; (1, 0) is masked (r_1 < r_0); diagonal is 0.
    assert loss.item() == pytest.approx(4.0 / 4.0, abs=1e-15)
    (gradient,) = torch.autograd.grad(loss, trained)
    # Only the under-sampled point 0 is pushed (d/dr_0 = 2 * 2 / 4); point 1 gets nothing,
    # neither as a trained point (masked) nor as a reference (detached).
    assert gradient.tolist() == pytest.approx([1.0, 0.0], abs=1e-15)


def test_pl2_gb_masks_over_sampled_points_of_a_real_pair():
    flow = _mismatched_flow()
    # The narrow flow under-samples the far point and over-samples the one at the mean.
    x = torch.stack([TARGET_MEAN, TARGET_MEAN + 2.5 * TARGET_STD])
    r, _ = log_ratio(flow, target_energy, x)
    assert r[1] > r[0]
    w = batch_weights(r)
    loss = pl2_gb(flow, target_energy, x)
    expected = w[0] * (r[1] - r[0]) ** 2 / 4
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    # The gradient equals the one of the single unmasked term, through U_G(x_1) alone.
    parameters = list(flow.parameters())
    by_loss = torch.autograd.grad(loss, parameters)
    u_g_far = flow.energy_of_generation(x[1:])[0]
    by_hand = torch.autograd.grad(2 * w[0] * (r[1] - r[0]).detach() / 4 * u_g_far, parameters)
    for a, b in zip(by_loss, by_hand, strict=True):
        assert torch.allclose(a, b, rtol=0, atol=1e-12)


def test_pl2_gg_and_pl2_bb_equal_their_double_sums():
    flow, x = _mismatched_flow(), _points()
    r, _ = log_ratio(flow, target_energy, x)
    w = batch_weights(r)
    pairs = (r[:, None] - r[None, :]) ** 2
    # Closed forms vs the O(n^2) sums of eqs. 48-49; float64 round-off.
    assert pl2_gg(flow, target_energy, x).item() == pytest.approx(pairs.mean().item(), rel=1e-10)
    weighted = (w[:, None] * w[None, :] * pairs).mean().item()
    assert pl2_bb(flow, target_energy, x).item() == pytest.approx(weighted, rel=1e-9)


def test_l2_plus_gradient_flows_only_through_points_above_the_detached_mean():
    flow, x = _mismatched_flow(), _points()
    target = ScaledTarget()
    loss = l2_plus(flow, target, x)
    loss.backward()
    assert target.factor.grad is None, "U_B must not be differentiated"
    r, u_g = log_ratio(flow, target_energy, x)
    k = r.mean().detach()
    surrogate = (2 * (r - k).clamp(min=0).detach() / x.shape[0] * u_g).sum()
    parameters = list(flow.parameters())
    expected = torch.autograd.grad(surrogate, parameters)
    for parameter, grad in zip(parameters, expected, strict=True):
        assert torch.allclose(parameter.grad, grad, rtol=0, atol=1e-12)


@pytest.mark.parametrize("loss", [l2_plus, pl2_gg, pl2_bb, pl2_gb, kl_z_df])
def test_inverse_pass_losses_never_differentiate_u_b(loss):
    target = ScaledTarget()
    loss(_mismatched_flow(), target, 32).backward()
    assert target.factor.grad is None


@pytest.mark.parametrize("loss", [kl_x, renyi_half])
def test_forward_pass_losses_differentiate_u_b(loss):
    target = ScaledTarget()
    loss(_mismatched_flow(), target, 32).backward()
    assert target.factor.grad is not None and target.factor.grad != 0


@pytest.mark.parametrize(
    "loss, options", [(kl_x, {}), (renyi_half, {}), (pl2_cb, {"cache": UnderSampledCache()})]
)
def test_forward_pass_losses_refuse_a_tensor_batch(loss, options):
    with pytest.raises(TypeError):
        loss(_mismatched_flow(), target_energy, _points(), **options)


def test_batch_weights_schemes():
    r = torch.tensor([0.0, 1.0, 2.0, 10.0], dtype=torch.float64)
    softmax = batch_weights(r)
    assert softmax.sum().item() == pytest.approx(4.0)
    # Proportional to exp(r): ratios of consecutive weights are e.
    assert (softmax[1] / softmax[0]).item() == pytest.approx(torch.e)
    std = batch_weights(r, "std", temperature=1.0)
    spread = r.std(unbiased=False)
    assert (std[1] / std[0]).item() == pytest.approx(torch.exp(1 / spread).item())
    spike = torch.cat([torch.zeros(20, dtype=torch.float64), torch.tensor([10.0]).double()])
    clamped = batch_weights(spike, "clamp")
    assert clamped.sum().item() == pytest.approx(21.0)
    # Clamping to [0.1, 10] bounds the spread of the weights by a factor 100.
    assert (clamped.max() / clamped.min()).item() == pytest.approx(100.0)
    with pytest.raises(ValueError):
        batch_weights(r, "nope")


def test_mode_weight_schemes_by_hand():
    labels = torch.tensor([0, 0, 0, 1])
    assert FixedModeWeights([0.1, 1.0])(labels).tolist() == pytest.approx([0.1] * 3 + [1.0])
    # Target 1/2 each; observed 3/4 and 1/4.
    expected = [0.5 / 0.75] * 3 + [0.5 / 0.25]
    assert RatioModeWeights([0.5, 0.5])(labels).tolist() == pytest.approx(expected)
    adaptive = AdaptiveModeWeights([0.5, 0.5], factor=2.0)
    adaptive(labels)
    second = adaptive(labels)
    # Mode 0 is over-represented twice (halved twice), mode 1 under-represented (doubled).
    assert second.tolist() == pytest.approx([0.25] * 3 + [4.0])
    restored = AdaptiveModeWeights([0.5, 0.5], factor=2.0)
    restored.load_state_dict(adaptive.state_dict())
    assert restored.multipliers.tolist() == adaptive.multipliers.tolist()


def test_kl_x_reweighted_is_the_weighted_kl_x():
    flow = _mismatched_flow()

    def mode_of(x):
        return (x[:, 0] > TARGET_MEAN[0]).long()

    torch.manual_seed(7)
    loss = kl_x_reweighted(
        flow, target_energy, 64, mode_of=mode_of, mode_weights=FixedModeWeights([0.1, 1.0])
    )
    torch.manual_seed(7)
    x, log_prob = flow.sample(64)
    raw = torch.tensor([0.1, 1.0], dtype=torch.float64)[mode_of(x)]
    w = raw * 64 / raw.sum()
    expected = (w * (target_energy(x) + log_prob)).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)


def test_kl_x_reweighted_of_a_batch_in_weightless_modes_is_zero_not_nan():
    # every sample in mode 0, which has weight 0: the weights used to be 0/0 = NaN
    flow = _mismatched_flow()
    loss = kl_x_reweighted(
        flow,
        target_energy,
        32,
        mode_of=lambda x: torch.zeros(x.shape[0], dtype=torch.long),
        mode_weights=FixedModeWeights([0.0, 1.0]),
    )
    loss.backward()
    assert loss.item() == 0.0
    assert all(torch.isfinite(p.grad).all() for p in flow.parameters() if p.grad is not None)


def test_pl2_cb_keeps_the_most_under_sampled_half():
    flow, cache = _mismatched_flow(), UnderSampledCache(keep=0.5)
    torch.manual_seed(3)
    pl2_cb(flow, target_energy, 64, cache=cache)
    torch.manual_seed(3)
    with torch.no_grad():
        first_batch = flow.sample(64)[0]
        r, _ = log_ratio(flow, target_energy, first_batch)
    top = first_batch[torch.argsort(r, descending=True)[:32]]
    assert torch.equal(cache.points, top)
    # Every kept point is at least as under-sampled as every dropped one.
    kept_r, _ = log_ratio(flow, target_energy, cache.points)
    assert kept_r.min() >= r.sort(descending=True).values[32]
    before = cache.points.clone()
    pl2_cb(flow, target_energy, 64, cache=cache)
    assert cache.points.shape == (32, 2)
    assert not torch.equal(cache.points, before)
