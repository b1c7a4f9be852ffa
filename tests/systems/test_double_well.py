"""Double wells: energy formula, minor-mode mass by independent quadrature, exact sampler."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from forcefields.errors import ShapeMismatchError
from systems.double_well import (
    DOUBLE_WELLS,
    QUARTIC_B,
    QUARTIC_C,
    DoubleWell,
    double_well_2d,
    double_well_wide,
    is_minor_mode,
    minor_mode_fraction,
    sample_bimodal,
)


def _quadrature_fraction(beta: float) -> float:
    """Minor-mode mass by scipy quad of the torch energy's x0 marginal (finite limits)."""
    well = double_well_2d()

    def density(x0: float) -> float:
        point = torch.tensor([[x0, 0.0]], dtype=torch.float64)
        return math.exp(-beta * (well(point).item() + 4.0))

    minor = integrate.quad(density, 0.0, 6.0, epsabs=0.0, epsrel=1e-11, limit=200)[0]
    major = integrate.quad(density, -6.0, 0.0, epsabs=0.0, epsrel=1e-11, limit=200)[0]
    return minor / (minor + major)


def test_energy_formula_on_a_hand_made_point():
    well = double_well_wide(beta=0.5)
    x = torch.zeros(1, 12, dtype=torch.float64)
    x[0, 0], x[0, 3] = 1.0, 20.0
    expected = 1.0 - QUARTIC_B + QUARTIC_C + 20.0**2 / (2 * 10.0**2)
    assert well(x).item() == pytest.approx(expected, abs=1e-12)
    assert well.reduced_energy(x).item() == pytest.approx(0.5 * expected, abs=1e-12)


@pytest.mark.parametrize("name", DOUBLE_WELLS)
def test_variants_have_their_dimension_and_std(name):
    well = DOUBLE_WELLS[name]()
    expected = {"double_well_medium": (12, 1.0), "double_well_wide": (12, 10.0)}
    expected |= {"double_well_narrow": (12, 0.1), "double_well_2d": (2, 1.0)}
    assert (well.dim, well.gaussian_std) == expected[name]


def test_minor_mode_fraction_is_calibrated_and_matches_independent_quadrature():
    # Beyond |x0| = 6 the density is below exp(-1100): finite limits lose nothing.
    assert minor_mode_fraction(1.0) == pytest.approx(_quadrature_fraction(1.0), abs=1e-9)
    assert minor_mode_fraction(0.5) == pytest.approx(_quadrature_fraction(0.5), abs=1e-9)
    # c was rounded to 6 digits; the fraction moves by ~3e-2 per unit of c, so 1e-5 holds.
    assert minor_mode_fraction(1.0) == pytest.approx(0.22, abs=1e-5)
    # The tilted quartic gives 0.357 at temperature x2 (the thesis reports about 0.37).
    assert minor_mode_fraction(0.5) == pytest.approx(0.357, abs=1e-3)


@pytest.mark.parametrize("beta", [1.0, 0.5])
def test_log_partition_integrates_the_2d_density_to_one(beta):
    well = double_well_2d(beta=beta)
    log_z = well.log_partition()

    def density(x1: float, x0: float) -> float:
        point = torch.tensor([[x0, x1]], dtype=torch.float64)
        return math.exp(-well.reduced_energy(point).item() - log_z)

    # Outside |x0| < 6, |x1| < 12 the mass is below exp(-30) at beta 0.5; dblquad's
    # default tolerance (1.5e-8 absolute) bounds the rest.
    mass = integrate.dblquad(density, -6.0, 6.0, -12.0, 12.0)[0]
    assert mass == pytest.approx(1.0, abs=1e-6)


def test_log_partition_adds_each_gaussian_coordinate():
    # Each extra coordinate of std s contributes log(sqrt(2 pi) s / sqrt(beta)).
    wide, narrow = double_well_wide(beta=0.5), DOUBLE_WELLS["double_well_narrow"](0.5)
    gap = wide.log_partition() - narrow.log_partition()
    assert gap == pytest.approx(11 * math.log(10.0 / 0.1), abs=1e-10)


def test_trapezoid_on_a_grid_agrees_with_quadrature():
    def mass(grid: np.ndarray) -> float:
        return np.trapezoid(np.exp(-(grid**4 - QUARTIC_B * grid**2 + QUARTIC_C * grid + 4.0)), grid)

    minor, major = mass(np.linspace(0.0, 5.0, 100_001)), mass(np.linspace(-5.0, 0.0, 100_001))
    # Trapezoid error with h = 5e-5 on a smooth density is ~1e-9 relative.
    assert minor / (minor + major) == pytest.approx(minor_mode_fraction(), abs=1e-7)


@pytest.mark.parametrize("beta", [1.0, 0.5])
def test_sampler_reproduces_the_quadrature_distribution(beta):
    n = 200_000
    x0 = sample_bimodal(n, beta, torch.Generator().manual_seed(11)).numpy()
    fraction = minor_mode_fraction(beta)
    standard_error = math.sqrt(fraction * (1 - fraction) / n)
    # 4 standard errors: a false failure has probability ~6e-5.
    assert abs((x0 > 0).mean() - fraction) < 4 * standard_error

    edges = np.linspace(-2.6, 2.6, 27)
    edges[0], edges[-1] = -np.inf, np.inf

    def density(x: float) -> float:
        return math.exp(-beta * (x**4 - QUARTIC_B * x**2 + QUARTIC_C * x + 4.0))

    mass = np.array(
        [integrate.quad(density, a, b)[0] for a, b in zip(edges[:-1], edges[1:], strict=True)]
    )
    observed, _ = np.histogram(x0, edges)
    p_value = stats.chisquare(observed, n * mass / mass.sum()).pvalue
    # A correct sampler fails this only with probability 1e-3 (fixed seed: deterministic).
    assert p_value > 1e-3


def test_sample_gaussian_coordinates_have_the_tempered_std():
    well = double_well_wide(beta=0.5)
    x = well.sample(20_000, torch.Generator().manual_seed(4))
    assert x.shape == (20_000, 12) and x.dtype == torch.float64
    std = x[:, 1:].std(dim=0)
    expected = 10.0 / math.sqrt(0.5)
    # Relative sampling error of a std from 20000 draws is 1/sqrt(2n) = 0.5%; 5 sigma = 2.5%.
    assert ((std / expected - 1).abs() < 0.025).all()
    assert is_minor_mode(x).dtype == torch.bool
    assert is_minor_mode(x).float().mean().item() == pytest.approx(
        well.minor_mode_fraction(), abs=0.02
    )


@pytest.mark.parametrize("shape", [(4, 2), (4, 30), (4,), (2, 4, 12)])
def test_points_of_another_dimension_are_a_shape_error(shape):
    well = DoubleWell(dim=12, gaussian_std=10.0)
    with pytest.raises(ShapeMismatchError, match=r"expected points \(B, 12\)"):
        well(torch.zeros(shape))
