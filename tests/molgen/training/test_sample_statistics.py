"""Sample statistics logged during training, checked on Gaussians with known answers."""

from __future__ import annotations

import math

import pytest
import torch
from nflows.transforms import PointwiseAffineTransform

import systems
from molgen.flows import Flow
from molgen.training.metrics import sample_statistics


def test_reverse_kl_and_ess_of_a_wide_gaussian_against_a_narrow_one():
    # p_G = N(0, sigma^2 I) through a scaling flow, p_B ∝ exp(-|x|^2 / (2 s^2)), D = 2.
    sigma, s, dim, n = 2.0, 1.0, 2, 20_000
    flow = Flow(PointwiseAffineTransform(shift=0.0, scale=sigma), dim=dim)
    statistics = sample_statistics(
        flow,
        lambda x: (x**2).sum(1) / (2 * s**2),
        systems.load("double_well_2d"),
        n,
        generator=torch.Generator().manual_seed(0),
    )
    log_z = 0.5 * dim * math.log(2 * math.pi * s**2)
    reverse_kl = dim * (math.log(s / sigma) + sigma**2 / (2 * s**2) - 0.5)
    # r = const - 3/8 |x|^2 has standard deviation 3, so the mean of 20000 samples has
    # standard error 0.021; 0.1 is about five of them.
    assert statistics["mean_log_ratio"] == pytest.approx(log_z - reverse_kl, abs=0.1)
    # w ∝ exp(-3/8 x^2) per coordinate: E w = (1 + 3)^(-1/2), E w^2 = (1 + 6)^(-1/2), so the
    # population Kish fraction is (sqrt(7) / 4)^2 = 0.4375; w <= 1 keeps its sampling error
    # near 0.004 at n = 20000.
    assert statistics["ess_fraction"] == pytest.approx(7 / 16, abs=0.02)


class _HalfNaN(torch.nn.Module):
    """A transform that sends every second sample to NaN (an exploded flow)."""

    def forward(self, z, context=None):
        x = z.clone()
        x[1::2] = math.nan
        return x, torch.zeros(z.shape[0])

    def inverse(self, x, context=None):
        return x, torch.zeros(x.shape[0])


def test_samples_with_non_finite_coordinates_lie_in_no_mode():
    # NaN coordinates used to be labelled (x0 > 0 is False for NaN: the "left" mode), so an
    # exploded half of the batch counted as left-mode samples.
    system = systems.load("double_well_2d")
    flow = Flow(_HalfNaN(), dim=2)
    statistics = sample_statistics(
        flow, lambda x: (x**2).sum(1), system, 1000, generator=torch.Generator().manual_seed(0)
    )
    assert statistics["finite_fraction"] == pytest.approx(0.5)
    assert sum(statistics["mode_fractions"].values()) == pytest.approx(0.5)
