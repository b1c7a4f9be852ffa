"""The Fokker-Planck floor of the mixture benchmark against the Gaussian case in closed form."""

import math

import numpy as np
import pytest
import torch

from benchmarks.mixture_fokker_planck_floor import floor_for_mixture, grid_symkl, mixture_means
from molgen.jko.config import config_from_dict
from molgen.jko.run import seeded_problem


def test_grid_symkl_of_two_gaussians_is_the_closed_form():
    axis = np.arange(-12.0, 12.05, 0.1)
    x, y = np.meshgrid(axis, axis, indexing="ij")
    first = np.exp(-(x**2 + y**2) / 2)
    second = np.exp(-(x**2 + y**2) / (2 * 1.5))
    # Per axis, variances a and b: SymKL = (a/b + b/a - 2) / 2; two axes.
    expected = 1.5 + 1 / 1.5 - 2
    assert grid_symkl(first, second, 0.1) == pytest.approx(expected, rel=1e-6)
    assert grid_symkl(first, first, 0.1) == 0.0


def test_one_component_floor_is_the_ornstein_uhlenbeck_law():
    # A single unit Gaussian at 0: from N(0, 16 I) the law at t is N(0, (1 + 15 e^{-2t}) I).
    variance = 1 + 15 * math.exp(-4.0)
    expected = variance + 1 / variance - 2
    floor = floor_for_mixture(torch.zeros(1, 2), spacing=0.2)
    # Spacing 0.2 leaves an O(h^2) error of about 1 % in the variance a (test_fokker_planck_2d),
    # which the SymKL (a - 1)^2 / a turns into about 10 % at a = 1.27 (measured: 11 % low).
    assert floor["2"] == pytest.approx(expected, rel=0.15)
    assert floor["4"] < 1e-3


def test_seed_drawn_means_are_those_of_the_mixture_preset():
    means = mixture_means("", 5, 10.0, seed=3)
    config = config_from_dict({"preset": "mixture", "dim": 2, "seed": 3})
    with seeded_problem(config) as problem:
        # The preset's reference marginal is the mean of unit Gaussians at the means' x_0.
        grid = torch.linspace(-8, 8, 9)
        marginal = problem.reference_marginal(4.0, grid)
    expected = torch.exp(-0.5 * (grid[:, None] - means[:, 0]) ** 2).mean(-1) / math.sqrt(
        2 * math.pi
    )
    torch.testing.assert_close(marginal, expected)
