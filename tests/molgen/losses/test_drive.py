"""Mode drives: their values on analytic mixtures and their prediction for l2_plus itself."""

import math

import pytest
import torch

from molgen.losses import l2_plus
from molgen.losses.drive import mode_drive, mode_drives


def _mixture_log_density(x, weights, means, stds):
    f64 = {"dtype": torch.float64}
    components = torch.distributions.Normal(torch.tensor(means, **f64), torch.tensor(stds, **f64))
    log_weights = torch.tensor(weights, **f64).log()
    return torch.logsumexp(components.log_prob(x[:, None]) + log_weights, dim=1)


def _mixture_samples(n, weights, means, stds, seed):
    generator = torch.Generator().manual_seed(seed)
    which = torch.multinomial(torch.tensor(weights), n, replacement=True, generator=generator)
    noise = torch.randn(n, generator=generator, dtype=torch.float64)
    f64 = {"dtype": torch.float64}
    return torch.tensor(means, **f64)[which] + torch.tensor(stds, **f64)[which] * noise


def test_under_weighted_mode_is_fed_by_both_losses():
    # Same shapes, minor weight 0.1 in p_G against 0.2 in p_B: r is log(0.2/0.1) in the minor
    # mode and log(0.8/0.9) in the major one (components 16 std apart: no overlap in float64).
    means, stds = [-8.0, 8.0], [1.0, 1.0]
    x = _mixture_samples(20000, [0.9, 0.1], means, stds, seed=0)
    log_ratio = _mixture_log_density(x, [0.8, 0.2], means, stds) - _mixture_log_density(
        x, [0.9, 0.1], means, stds
    )
    drives = mode_drives(log_ratio, x > 0)
    assert drives["kl_x"].value == pytest.approx(math.log(2.0) - math.log(0.8 / 0.9), abs=1e-9)
    assert drives["l2_plus"].value > 10 * drives["l2_plus"].standard_error


def test_too_narrow_mode_with_the_right_weight_splits_the_losses():
    # The minor mode has its weight right but half its width in p_G: r = -log 2 + 1.5 (x-8)^2
    # there, E[r | minor] = -log 2 + 1.5/4 under p_G, and r = 0 in the major mode. kl_x
    # averages r over the mode and drains it; l2_plus only sees the under-dense tails of
    # the mode, above the batch mean, and feeds it (analytically +0.054 nats).
    means, weights = [-8.0, 8.0], [0.8, 0.2]
    x = _mixture_samples(100000, weights, means, [1.0, 0.5], seed=1)
    log_ratio = _mixture_log_density(x, weights, means, [1.0, 1.0]) - _mixture_log_density(
        x, weights, means, [1.0, 0.5]
    )
    drives = mode_drives(log_ratio, x > 0)
    # 4 standard errors: a false failure once in ~16000 seeds.
    assert abs(drives["kl_x"].value - (0.375 - math.log(2.0))) < 4 * drives["kl_x"].standard_error
    assert drives["l2_plus"].value > 4 * drives["l2_plus"].standard_error


class _TabularFlow(torch.nn.Module):
    """A categorical p_G over states 0..S-1 (points (n, 1) holding the state index)."""

    def __init__(self, logits: torch.Tensor):
        super().__init__()
        self.logits = torch.nn.Parameter(logits.clone())

    def energy_of_generation(self, x: torch.Tensor) -> torch.Tensor:
        return -torch.log_softmax(self.logits, dim=0)[x[:, 0].long()]


def test_drive_predicts_the_mode_mass_change_of_a_natural_gradient_step_on_l2_plus():
    # p_G has exact multiples of 1/1000 as probabilities, so the 1000 points below are an
    # exact sample and batch means are expectations: the only error left is O(step^2).
    counts = torch.tensor([300, 250, 150, 120, 100, 80])
    probabilities = counts.double() / counts.sum()
    flow = _TabularFlow(probabilities.log())
    energies = torch.tensor([0.2, 0.0, 0.7, 0.4, 0.1, 1.5], dtype=torch.float64)
    points = torch.repeat_interleave(torch.arange(6), counts)[:, None].double()

    def beta_u_b(x):
        return energies[x[:, 0].long()]

    l2_plus(flow, beta_u_b, points).backward()
    # Natural gradient of softmax logits: delta log p(x) = -eps dL/dtheta_x / p(x).
    step = 1e-5
    with torch.no_grad():
        updated = flow.logits - step * flow.logits.grad / probabilities
    in_mode = torch.tensor([True, True, True, False, False, False])
    mass_before = probabilities[in_mode].sum()
    mass_after = torch.softmax(updated, dim=0)[in_mode].sum()

    log_ratio = flow.energy_of_generation(points).detach() - beta_u_b(points)
    drive = mode_drives(log_ratio, in_mode[points[:, 0].long()])["l2_plus"].value
    predicted = 2 * step * mass_before * (1 - mass_before) * drive
    # The factor 2 is the derivative of the square in eq. 58; the remainder is O(step^2).
    assert float(mass_after - mass_before) == pytest.approx(float(predicted), rel=1e-3)
    assert predicted != 0.0


def test_mode_drive_rejects_an_empty_side():
    with pytest.raises(ValueError, match="two samples on each side"):
        mode_drive(torch.zeros(5), torch.tensor([True, False, False, False, False]))


def test_l2_plus_drive_leaves_a_point_at_infinite_energy_out_of_its_mean():
    # As in l2_plus: r = -inf (beta U_B = +inf) is infinitely over-sampled, pushes 0 and is
    # not part of K, so the drive stays finite instead of NaN.
    log_ratio = torch.tensor([0.0, 1.0, 2.0, 3.0, -torch.inf, 0.5], dtype=torch.float64)
    in_mode = torch.tensor([True, True, True, False, False, False])
    drive = mode_drives(log_ratio, in_mode)["l2_plus"]
    k = (0.0 + 1.0 + 2.0 + 3.0 + 0.5) / 5
    push = [max(v - k, 0.0) for v in (0.0, 1.0, 2.0, 3.0, 0.0, 0.5)]
    push[4] = 0.0
    expected = sum(push[:3]) / 3 - sum(push[3:]) / 3
    assert drive.value == pytest.approx(expected, abs=1e-12)
