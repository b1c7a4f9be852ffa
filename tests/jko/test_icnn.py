"""Convexity and identity initialisation of every input-convex network."""

import pytest
import torch

from molgen.jko import FICNN, DenseICNN, QuadraticResidual, fit_identity, gradient, hessian

DIM = 4


def randomised(network: torch.nn.Module) -> torch.nn.Module:
    """Scrambles all weights (then restores non-negativity) so convexity is not luck of init."""
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.normal_(0.0, 1.0)
    network.clamp_weights()
    return network


NETWORKS = {
    "ficnn_softplus": lambda: FICNN(DIM, (16, 16), activation="softplus"),
    "ficnn_celu": lambda: FICNN(DIM, (16, 16, 8), activation="celu"),
    "dense_icnn": lambda: DenseICNN(DIM, (16, 16), rank=2),
    "quadratic_residual": lambda: QuadraticResidual(FICNN(DIM, (16, 16)), DIM),
}


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_hessian_is_positive_semidefinite(name):
    torch.manual_seed(0)
    network = randomised(NETWORKS[name]().double())
    x, grad = gradient(network, 3 * torch.randn(256, DIM, dtype=torch.float64))
    eigenvalues = torch.linalg.eigvalsh(hessian(x, grad, create_graph=False))
    # float64 round-off on Hessian entries of size up to ~1e3 is ~1e-10; a non-convex
    # network gives negative eigenvalues of order one.
    assert eigenvalues.min() > -1e-8


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_midpoint_convexity(name):
    torch.manual_seed(1)
    network = randomised(NETWORKS[name]().double())
    a, b = torch.randn(2, 512, DIM, dtype=torch.float64) * 3
    with torch.no_grad():
        gap = 0.5 * (network(a) + network(b)) - network(0.5 * (a + b))
    # Round-off of float64 sums of terms up to ~1e3.
    assert gap.min() > -1e-9


def test_quadratic_residual_is_exact_identity_at_construction():
    torch.manual_seed(2)
    potential = QuadraticResidual(DenseICNN(DIM, (8, 8), strong_convexity=0.0), DIM).double()
    x = torch.randn(32, DIM, dtype=torch.float64)
    # The gradient is x plus an exactly zero network term: only round-off remains.
    torch.testing.assert_close(gradient(potential, x)[1], x, rtol=0, atol=1e-12)


def test_fit_identity_reaches_tolerance():
    torch.manual_seed(3)
    potential = FICNN(2, (32, 32))
    samples = torch.randn(512, 2)
    error = fit_identity(potential, samples, iterations=3000, tolerance=1e-3)
    assert error < 1e-3
    held_out = torch.randn(512, 2)
    # Fitted on 512 points of a smooth 2-D map: the held-out error stays of the same order.
    assert (gradient(potential, held_out)[1] - held_out).square().sum(-1).mean() < 1e-2


@pytest.mark.parametrize("iterations", [0, 5])
def test_fit_identity_returns_the_error_of_the_returned_potential(iterations):
    torch.manual_seed(4)
    potential = FICNN(2, (16, 16)).double()
    samples = torch.randn(256, 2, dtype=torch.float64)
    error = fit_identity(potential, samples, iterations=iterations, tolerance=0.0)
    x, grad = gradient(potential, samples)
    # The same float64 mean recomputed on the returned weights: round-off only.
    assert error == pytest.approx((grad - x).square().sum(-1).mean().item(), rel=1e-12)
