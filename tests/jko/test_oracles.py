"""The analytic oracles against independent derivations and published checks."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate

from molgen.jko import (
    AGGREGATION_STEADY_ENERGY,
    Barenblatt,
    Gaussian,
    QuadraticPotential,
    aggregation_steady_state,
    discrete_jko_ou,
    fitted_gaussian_symkl_expected,
    fokker_planck_1d,
    gaussian_symkl,
    ou_marginal,
    porous_fokker_planck_steady_state,
)


def one_dimensional_ou() -> tuple[QuadraticPotential, Gaussian]:
    potential = QuadraticPotential(
        torch.tensor([[2.0]], dtype=torch.float64), torch.zeros(1).double()
    )
    return potential, Gaussian(torch.zeros(1).double(), torch.tensor([[4.0]], dtype=torch.float64))


@pytest.mark.parametrize(
    "step_size, expected", [(0.1, 1.0898), (0.05, 1.0333), (0.01, 0.9859), (0.001, 0.9749)]
)
def test_discrete_jko_variance_matches_hand_computed_values(step_size, expected):
    potential, initial = one_dimensional_ou()
    steps = round(0.5 / step_size)
    variance = discrete_jko_ou(potential, initial, step_size, steps).covariance.item()
    # The reference values (jko-spec O2) are printed to 4 decimals.
    assert variance == pytest.approx(expected, abs=6e-5)


def test_continuous_variance_and_small_step_limit():
    potential, initial = one_dimensional_ou()
    exact = ou_marginal(potential, initial, 0.5).covariance.item()
    # 1/2 + 3.5 e^{-2}: printed to 5 decimals in jko-spec O1.
    assert exact == pytest.approx(0.97367, abs=1e-5)
    fine = discrete_jko_ou(potential, initial, 1e-4, 5000).covariance.item()
    # JKO is first order in h: the error at h = 1e-4 is ~1e-4 * |d Sigma/dt| ~ 1e-4.
    assert fine == pytest.approx(exact, abs=5e-4)


def test_ou_marginal_solves_the_lyapunov_equation():
    torch.manual_seed(0)
    potential = QuadraticPotential.random(3, dtype=torch.float64)
    initial = Gaussian(torch.randn(3).double(), torch.diag(torch.rand(3).double() + 0.5))
    temperature, time, dt = 0.7, 0.3, 1e-5
    before = ou_marginal(potential, initial, time - dt, temperature)
    after = ou_marginal(potential, initial, time + dt, temperature)
    now = ou_marginal(potential, initial, time, temperature)
    matrix = potential.matrix
    covariance_rate = (after.covariance - before.covariance) / (2 * dt)
    lyapunov = -matrix @ now.covariance - now.covariance @ matrix + 2 * temperature * torch.eye(3)
    mean_rate = (after.mean - before.mean) / (2 * dt)
    # Central differences: truncation ~dt^2 = 1e-10, cancellation ~1e-16/dt = 1e-11.
    torch.testing.assert_close(covariance_rate, lyapunov.double(), rtol=0, atol=1e-7)
    torch.testing.assert_close(
        mean_rate, -matrix @ (now.mean - potential.centre), rtol=0, atol=1e-7
    )


def test_discrete_jko_reaches_the_stationary_law():
    torch.manual_seed(1)
    potential = QuadraticPotential.random(3, dtype=torch.float64)
    initial = Gaussian.standard(3, dtype=torch.float64)
    final = discrete_jko_ou(potential, initial, 0.2, 400, temperature=0.5)
    stationary = Gaussian(potential.centre, 0.5 * torch.linalg.inv(potential.matrix))
    # 400 steps of contraction factor <= 1/(1 + 0.2 * 0.5): converged to round-off.
    assert (
        gaussian_symkl(final.mean, final.covariance, stationary.mean, stationary.covariance) < 1e-10
    )


def test_gaussian_symkl_matches_torch_kl():
    torch.manual_seed(2)
    p = Gaussian(torch.randn(4).double(), torch.eye(4).double() + 0.3)
    q = Gaussian(torch.randn(4).double(), 2 * torch.eye(4).double())
    mvn = torch.distributions.MultivariateNormal
    tp, tq = mvn(p.mean, p.covariance), mvn(q.mean, q.covariance)
    expected = torch.distributions.kl_divergence(tp, tq) + torch.distributions.kl_divergence(tq, tp)
    assert gaussian_symkl(p.mean, p.covariance, q.mean, q.covariance) == pytest.approx(
        expected.item()
    )


def test_barenblatt_unit_mass_energy_and_pde():
    profile = Barenblatt(dim=1, exponent=2.0, time_offset=0.1)
    # (3/64)^(1/3) and 16/15 sqrt(12) C^(5/2) from jko-spec O4.
    assert profile.constant == pytest.approx((3 / 64) ** (1 / 3))
    grid = torch.linspace(-4, 4, 400001, dtype=torch.float64)[:, None]
    spacing = 8 / 400000
    for time in (0.0, 0.5):
        density = profile.density(grid, time)
        # Trapezoid rule on a compactly supported, Lipschitz profile: error ~ spacing.
        assert density.sum().item() * spacing == pytest.approx(1.0, abs=1e-4)
        assert (density**2).sum().item() * spacing == pytest.approx(profile.energy(time), abs=1e-4)
    assert profile.energy(0.0) == pytest.approx(0.28845 * 0.1 ** (-1 / 3), rel=1e-4)
    x = torch.linspace(-0.5, 0.5, 11, dtype=torch.float64)[:, None]
    dt, dx, time = 1e-6, 1e-4, 0.2
    time_rate = (profile.density(x, time + dt) - profile.density(x, time - dt)) / (2 * dt)
    square = [profile.density(x + shift, time) ** 2 for shift in (-dx, 0.0, dx)]
    laplacian = (square[0] - 2 * square[1] + square[2]) / dx**2
    # Inside the support: finite-difference truncation ~dx^2 and round-off ~1e-16/dx^2 ~ 1e-8.
    torch.testing.assert_close(time_rate, laplacian, rtol=0, atol=1e-5)


def test_barenblatt_samples_have_the_profile_variance():
    torch.manual_seed(3)
    profile = Barenblatt(dim=1, exponent=2.0, time_offset=0.1)
    samples = profile.sample(200000, time=0.3)
    # Variance of (C - k x^2 / s^(2/3))_+ is R^2 / 5 (parabolic profile on [-R, R]).
    expected = profile.radius(0.3) ** 2 / 5
    # Standard error of a sample variance ~ sqrt(2/n) relative; 5 standard errors.
    assert samples.var().item() == pytest.approx(expected, rel=5 * math.sqrt(2 / 200000))


@pytest.mark.timeout(60)
def test_barenblatt_sampling_returns_for_a_tiny_time_offset():
    # the density's s^(-2α/d) overflowed float32 and refused every proposal: a hang
    torch.manual_seed(3)
    profile = Barenblatt(dim=1, exponent=2.0, time_offset=1e-100)
    samples = profile.sample(1000)
    assert samples.dtype == torch.float32
    assert samples.shape == (1000, 1)
    assert torch.isfinite(samples).all()
    assert samples.abs().max().item() <= profile.radius(0.0) * (1 + 1e-6)  # float32 rounding


def test_steady_states_have_unit_mass_and_published_energies():
    def quad(function, a, b):
        return integrate.quad(
            lambda x: function(torch.tensor([[x]], dtype=torch.float64)).item(), a, b
        )[0]

    assert quad(porous_fokker_planck_steady_state, -3, 3) == pytest.approx(1.0, abs=1e-7)
    free_energy = quad(
        lambda x: (
            x[:, 0] ** 2 * porous_fokker_planck_steady_state(x)
            + porous_fokker_planck_steady_state(x) ** 2
        ),
        -3,
        3,
    )
    # 8/5 sqrt(2C) C^2 from jko-spec O5, printed to 6 decimals.
    assert free_energy == pytest.approx(0.786222, abs=1e-6)
    assert quad(aggregation_steady_state, -2, 2) == pytest.approx(1.0, abs=1e-7)


def test_aggregation_energy_constant_by_monte_carlo():
    torch.manual_seed(4)
    # Semicircle law on [-sqrt 2, sqrt 2]: sqrt(2) * (2 Beta(3/2, 3/2) - 1).
    samples = math.sqrt(2) * (2 * torch.distributions.Beta(1.5, 1.5).sample((2, 400000)) - 1)
    distance = (samples[0] - samples[1]).abs().double()
    energy = 0.5 * (0.5 * distance**2 - distance.log()).mean().item()
    # Monte Carlo with 4e5 pairs: standard error ~ 0.6 / sqrt(4e5) ~ 1e-3; 4 standard errors.
    assert energy == pytest.approx(AGGREGATION_STEADY_ENERGY, abs=4e-3)
    assert AGGREGATION_STEADY_ENERGY == pytest.approx(0.548287, abs=1e-6)


def test_fokker_planck_1d_matches_ou_with_second_order_error():
    a, temperature, initial_std, times = 2.0, 0.7, 2.0, np.array([0.3, 1.0])
    exact_mean = np.exp(-a * times)
    exact_variance = initial_std**2 * np.exp(-2 * a * times) + temperature / a * (
        1 - np.exp(-2 * a * times)
    )
    errors = []
    for nodes in (401, 801):
        grid = np.linspace(-12, 12, nodes)
        spacing = grid[1] - grid[0]
        start = np.exp(-0.5 * ((grid - 1) / initial_std) ** 2)
        rho = fokker_planck_1d(lambda x: 0.5 * a * x**2, start, grid, times, temperature)
        np.testing.assert_allclose(rho.sum(1) * spacing, 1.0, atol=1e-12)  # no-flux ends
        mean = (grid * rho).sum(1) * spacing
        variance = ((grid - mean[:, None]) ** 2 * rho).sum(1) * spacing
        errors.append(np.abs(np.r_[mean - exact_mean, variance - exact_variance]).max())
    # Spacing 0.03: the scheme's O(dx^2) error is ~3e-3 on the variance; halving the spacing
    # must divide it by ~4 (a first-order scheme would give 2).
    assert errors[1] < 5e-3
    assert errors[0] / errors[1] > 3.5


def test_fokker_planck_1d_relaxes_to_the_double_well_quadrature_fraction():
    from systems.double_well import bimodal_energy, minor_mode_fraction

    grid = np.linspace(-4, 4, 800)
    energy = lambda x: bimodal_energy(torch.from_numpy(x)).numpy()  # noqa: E731
    rho = fokker_planck_1d(energy, np.exp(-0.5 * grid**2), grid, [0.0, 1000.0])
    fractions = rho[:, grid > 0].sum(1) * (grid[1] - grid[0])
    # Symmetric start: half the mass on each side (to the grid's round-off).
    assert fractions[0] == pytest.approx(0.5, abs=1e-12)
    # t = 1000 is ~80 relaxation times; the stationary state is exp(-u) on the grid, whose
    # midpoint-rule mass differs from the quadrature by O(dx^2) ~ 1e-4.
    assert fractions[1] == pytest.approx(minor_mode_fraction(1.0), abs=5e-4)


@pytest.mark.parametrize("dim", [1, 3])
def test_fitted_gaussian_symkl_expected_matches_simulation(dim):
    # 400 fits of n = 2000 exact draws: the simulated mean SymKL has standard error
    # sd / 20, and the 1/n^2 corrections are ~1e-3 of the mean, so 4 standard errors is
    # a test that fails on a wrong parameter count (k changes by >= 1) but not by chance.
    generator = torch.Generator().manual_seed(dim)
    samples = 2000
    mean, sd = fitted_gaussian_symkl_expected(dim, samples)
    zero, identity = torch.zeros(dim, dtype=torch.float64), torch.eye(dim, dtype=torch.float64)
    values = []
    for _ in range(400):
        x = torch.randn(samples, dim, dtype=torch.float64, generator=generator)
        values.append(gaussian_symkl(x.mean(0), torch.atleast_2d(torch.cov(x.T)), zero, identity))
    simulated = torch.tensor(values)
    assert abs(simulated.mean().item() - mean) < 4 * sd / 20
    # The sd of 400 chi-square-like values of k = 2 (dim 1) degrees of freedom has a
    # relative standard error sqrt((kurtosis - 1) / 1600) = 7 % (kurtosis 3 + 12/k), 4 %
    # at k = 9 (dim 3): 20 % is 2.8 of them at dim 1 (seeded, so deterministic), and one
    # degree of freedom more or fewer moves the sd by 22 % at dim 1.
    assert simulated.std().item() == pytest.approx(sd, rel=0.2)


def test_ou_oracles_follow_the_inputs_device():
    # The meta device (shapes only, no data) stands in for a GPU: every tensor the oracles
    # create must be on the device of their inputs, never on the default CPU.
    device = torch.device("meta")
    potential = QuadraticPotential(2 * torch.eye(3, device=device), torch.zeros(3, device=device))
    initial = Gaussian(torch.zeros(3, device=device), torch.eye(3, device=device))
    for law in (ou_marginal(potential, initial, 0.5), discrete_jko_ou(potential, initial, 0.1, 2)):
        assert law.mean.device == device
        assert law.covariance.device == device
        assert law.covariance.shape == (3, 3)


def test_discrete_jko_refuses_a_covariance_that_does_not_commute_with_a():
    potential = QuadraticPotential(
        torch.tensor([[2.0, 0.9], [0.9, 1.0]], dtype=torch.float64),
        torch.zeros(2, dtype=torch.float64),
    )
    skewed = Gaussian(
        torch.zeros(2, dtype=torch.float64), torch.diag(torch.tensor([4.0, 0.25])).double()
    )
    with pytest.raises(ValueError, match="commute"):
        discrete_jko_ou(potential, skewed, 1e-3, 10)
    aligned = Gaussian(torch.zeros(2, dtype=torch.float64), 3.0 * potential.matrix)
    assert torch.isfinite(discrete_jko_ou(potential, aligned, 1e-3, 10).covariance).all()
