"""The variational (dual) entropy backend against the exact log-det backend."""

import math

import pytest
import torch

from molgen.jko import (
    FICNN,
    ExactLogDet,
    FreeEnergy,
    Gaussian,
    JKOFlow,
    PotentialEnergy,
    QuadraticPotential,
    QuadraticResidual,
    StepBatch,
    StepSettings,
    VariationalEntropy,
    discrete_jko_ou,
    entropy,
    gaussian_symkl,
    gradient,
)


def affine_potential(dim: int) -> torch.nn.Module:
    """Convex quadratic with a random, well-conditioned SPD Hessian (Gaussians to Gaussians)."""
    potential = QuadraticResidual(FICNN(dim, (8, 8), strong_convexity=0.0), dim).double()
    with torch.no_grad():
        potential.factor.add_(0.2 * torch.randn(dim, dim, dtype=torch.float64))
        potential.linear.normal_()
    return potential


def test_variational_entropy_matches_exact_backend_on_a_gaussian_push():
    torch.manual_seed(0)
    dim, n = 3, 4096
    potential = affine_potential(dim)
    points = torch.randn(n, dim, dtype=torch.float64)
    log_density = -0.5 * points.square().sum(-1) - 0.5 * dim * math.log(2 * math.pi)
    parameters = [potential.factor, potential.linear]
    variational = VariationalEntropy(dim, temperature=0.7, dtype=torch.float64)
    for _ in range(30):  # 90 critic ascent steps on the fixed push
        x, y = gradient(potential, points)
        variational(StepBatch(x.detach(), y, log_density))

    def value_and_gradient(functional, with_logdet):
        x, y = gradient(potential, points)
        logdet = ExactLogDet()(x, y) if with_logdet else None
        value = functional(StepBatch(x.detach(), y, log_density, logdet))
        return value.item(), torch.cat(
            [g.flatten() for g in torch.autograd.grad(value, parameters, materialize_grads=True)]
        )

    exact_value, exact_gradient = value_and_gradient(entropy(0.7), True)
    value, grad = value_and_gradient(variational, False)
    # Both are Monte Carlo estimates of -0.7 H on the same n = 4096 points; they differ by
    # the fluctuation of the sample covariance, 0.7 * sqrt(D / 2n) ~ 0.014, and the critic's
    # residual error; 0.07 is 5 such standard errors.
    assert value == pytest.approx(exact_value, abs=0.07)
    # With mu the moment-matched Gaussian, the gradient of E[log mu(y)] is the exact
    # -d log det / d theta times (n - 1) / n; the trained critic adds the gradient of its fit
    # to the sampling noise of n points (1-2 % of the norm over seeds 0-3 here).
    assert (grad - exact_gradient).norm() < 0.05 * exact_gradient.norm()


def test_variational_ou_flow_tracks_discrete_jko():
    torch.manual_seed(0)
    dim, step_size, steps = 2, 0.1, 5
    potential = QuadraticPotential.random(dim)
    flow = JKOFlow(
        Gaussian.standard(dim),
        FreeEnergy([PotentialEnergy(potential), VariationalEntropy(dim)]),
        lambda: QuadraticResidual(FICNN(dim, (32, 32)), dim),
        StepSettings(step_size=step_size, iterations=150, learning_rate=5e-3, batch_size=512),
        cloud_size=4096,
    )
    for _ in range(steps):
        flow.step()
    discrete = discrete_jko_ou(potential, Gaussian.standard(dim), step_size, steps)
    samples, _ = flow.sample(8000)
    moved = gaussian_symkl(torch.zeros(dim), torch.eye(dim), discrete.mean, discrete.covariance)
    # Same bound as the exact-backend test (test_flow_ou): a Gaussian fit to 8000 samples has
    # SymKL ~ 6e-4; 5e-3 is < 1 % of the distance the flow moved, so a frozen or wrong flow
    # (entropy ignored: covariance collapsing) fails.
    assert moved > 0.5
    fitted = gaussian_symkl(
        samples.mean(0), torch.cov(samples.T), discrete.mean, discrete.covariance
    )
    assert fitted < 5e-3
