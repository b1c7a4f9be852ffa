"""Euler-Maruyama against the exact OU marginal; inversion of gradient maps."""

import math
import warnings

import pytest
import torch

from molgen.jko import (
    FICNN,
    Gaussian,
    QuadraticPotential,
    QuadraticResidual,
    energy_distance,
    euler_maruyama,
    gradient,
    invert_gradient_map,
    mmd,
    ou_marginal,
)


def test_euler_maruyama_matches_ou_marginal():
    torch.manual_seed(0)
    potential = QuadraticPotential.random(2, dtype=torch.float64)
    initial = Gaussian.standard(2, dtype=torch.float64)
    particles = euler_maruyama(potential.drift_gradient, initial.sample(40000), 0.5, 1e-3, 0.8)
    exact = ou_marginal(potential, initial, 0.5, temperature=0.8)
    # Sampling error of the mean ~ sqrt(var / n) ~ 5e-3 and of the covariance ~ sqrt(2/n)
    # relative ~ 7e-3; the dt = 1e-3 bias is ~1e-3. Tolerances are ~4 standard errors.
    torch.testing.assert_close(particles.mean(0), exact.mean, rtol=0, atol=2e-2)
    torch.testing.assert_close(torch.cov(particles.T), exact.covariance, rtol=0, atol=3e-2)


def test_inversion_recovers_preimages():
    torch.manual_seed(1)
    potential = QuadraticResidual(FICNN(3, (16, 16)), 3).double()
    with torch.no_grad():
        potential.network.output_weight.uniform_(0.0, 1.0)
    x = 2 * torch.randn(200, 3, dtype=torch.float64)
    y = gradient(potential, x, create_graph=False)[1].detach()
    # Newton converges quadratically; float64 leaves ~1e-12.
    torch.testing.assert_close(invert_gradient_map(potential, y), x, rtol=0, atol=1e-8)


def test_inversion_warns_when_the_iteration_cap_is_reached():
    torch.manual_seed(1)
    potential = QuadraticResidual(FICNN(3, (16, 16)), 3).double()
    with torch.no_grad():
        potential.network.output_weight.uniform_(0.0, 1.0)
    y = gradient(potential, 2 * torch.randn(200, 3, dtype=torch.float64), create_graph=False)[1]
    # One Newton step from x = y cannot reach the float64 default tolerance (~2e-14) on a
    # non-quadratic potential with preimages ~2 away.
    with pytest.warns(RuntimeWarning, match=r"not converged after 1 Newton iterations"):
        invert_gradient_map(potential, y.detach(), iterations=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        invert_gradient_map(potential, y.detach())


def test_sample_distances_separate_laws():
    torch.manual_seed(2)
    a, b, shifted = torch.randn(3, 2000, 2)
    shifted = shifted + 1.0
    # Same law: both statistics are O(1/n) ~ 1e-3; a unit shift gives O(0.1-1).
    assert energy_distance(a, b) < 0.01 < energy_distance(a, shifted)
    assert mmd(a, b) < 0.005 < mmd(a, shifted)


@pytest.mark.parametrize("metric", [energy_distance, mmd])
def test_sample_distances_are_unbiased_for_one_law(metric):
    """Two samples of 50 points of one law: the mean over 400 repetitions is 0 within
    4 standard errors (with the diagonal's zeros it was +0.075 for the energy distance,
    +0.026 for the MMD, about 20 standard errors away)."""
    torch.manual_seed(5)
    values = torch.tensor([metric(*torch.randn(2, 50, 2)) for _ in range(400)])
    standard_error = values.std() / math.sqrt(len(values))
    assert abs(values.mean()) < 4 * standard_error
