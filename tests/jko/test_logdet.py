"""Exact and stochastic Hessian log-determinants against closed forms and each other."""

import math

import pytest
import torch

from molgen.jko import FICNN, ExactLogDet, QuadraticResidual, StochasticLogDet, gradient, hessian
from molgen.jko.krylov import conjugate_gradient, lanczos_quadrature


def random_spd(batch: int, dim: int) -> torch.Tensor:
    factor = torch.randn(batch, dim, dim, dtype=torch.float64)
    return factor @ factor.transpose(-1, -2) + 0.5 * torch.eye(dim, dtype=torch.float64)


def test_exact_logdet_of_quadratic_potential():
    torch.manual_seed(0)
    matrix = random_spd(1, 5)[0]
    x, grad = gradient(lambda x: 0.5 * ((x @ matrix) * x).sum(-1), torch.randn(7, 5).double())
    expected = torch.logdet(matrix).expand(7)
    torch.testing.assert_close(ExactLogDet()(x, grad).detach(), expected)


def test_conjugate_gradient_solves_spd_systems():
    torch.manual_seed(1)
    matrices = random_spd(6, 8)
    rhs = torch.randn(6, 8, dtype=torch.float64)
    solution = conjugate_gradient(lambda v: torch.einsum("bij,bj->bi", matrices, v), rhs, 8, 1e-12)
    # CG is exact after D iterations in exact arithmetic; float64 leaves ~1e-10.
    torch.testing.assert_close(solution, torch.linalg.solve(matrices, rhs), rtol=1e-7, atol=1e-8)


def test_lanczos_with_full_krylov_space_is_exact_quadratic_form():
    torch.manual_seed(2)
    matrices = random_spd(5, 6)
    probe = torch.randn(5, 6, dtype=torch.float64)
    values = lanczos_quadrature(lambda v: torch.einsum("bij,bj->bi", matrices, v), probe, 6)
    eigenvalues, vectors = torch.linalg.eigh(matrices)
    log_matrix = vectors @ torch.diag_embed(eigenvalues.log()) @ vectors.transpose(-1, -2)
    expected = torch.einsum("bi,bij,bj->b", probe, log_matrix, probe)
    torch.testing.assert_close(values, expected, rtol=1e-8, atol=1e-8)


def random_potential(dim: int) -> torch.nn.Module:
    potential = QuadraticResidual(FICNN(dim, (16, 16)), dim).double()
    with torch.no_grad():
        potential.network.output_weight.uniform_(0.0, 0.5)
        potential.factor.add_(0.3 * torch.randn(dim, dim, dtype=torch.float64))
    return potential


def test_stochastic_value_agrees_with_exact_within_hutchinson_error():
    torch.manual_seed(3)
    dim, probes = 5, 200
    potential = random_potential(dim)
    x, grad = gradient(potential, torch.randn(16, dim, dtype=torch.float64))
    exact = ExactLogDet()(x, grad).detach()
    estimate = StochasticLogDet(probes=probes, lanczos_steps=dim)(x, grad).detach()
    eigenvalues, vectors = torch.linalg.eigh(hessian(x, grad, create_graph=False))
    log_hessian = vectors @ torch.diag_embed(eigenvalues.log()) @ vectors.transpose(-1, -2)
    off_diagonal = log_hessian.square().sum((-1, -2)) - log_hessian.diagonal(
        0, -2, -1
    ).square().sum(-1)
    # Rademacher Hutchinson variance is 2 * sum_{i != j} L_ij^2 per probe; 5 standard errors.
    standard_error = (2 * off_diagonal / probes).sqrt()
    assert ((estimate - exact).abs() <= 5 * standard_error + 1e-10).all()


def test_stochastic_gradient_agrees_with_exact_gradient():
    torch.manual_seed(4)
    dim, repeats = 4, 300
    potential = random_potential(dim)
    points = torch.randn(8, dim, dtype=torch.float64)
    parameters = list(potential.parameters())

    def parameter_gradient(backend):
        x, grad = gradient(potential, points)
        grads = torch.autograd.grad(backend(x, grad).mean(), parameters, materialize_grads=True)
        return torch.cat([g.flatten() for g in grads])

    exact = parameter_gradient(ExactLogDet())
    backend = StochasticLogDet(probes=1, lanczos_steps=dim, cg_iterations=dim, cg_tolerance=1e-12)
    samples = torch.stack([parameter_gradient(backend) for _ in range(repeats)])
    mean, standard_error = samples.mean(0), samples.std(0) / repeats**0.5
    # Unbiased estimator: each coordinate within 5 standard errors (plus CG round-off).
    assert ((mean - exact).abs() <= 5 * standard_error + 1e-8).all()


def test_lanczos_is_exact_when_the_krylov_space_is_invariant():
    torch.manual_seed(5)
    dim, rank = 6, 2
    low_rank = torch.randn(dim, rank, dtype=torch.float64)
    identity = torch.eye(dim, dtype=torch.float64)
    # c I breaks down at the first step, I + U U^T after rank + 1 steps, and a full random
    # SPD matrix never: one batch exercises per-sample breakdown next to a normal sample.
    matrices = torch.stack(
        [2.5 * identity, identity + low_rank @ low_rank.T, random_spd(1, dim)[0]]
    )
    probe = torch.randn(3, dim, dtype=torch.float64)
    eigenvalues, vectors = torch.linalg.eigh(matrices)
    log_matrix = vectors @ torch.diag_embed(eigenvalues.log()) @ vectors.transpose(-1, -2)
    expected = torch.einsum("bi,bij,bj->b", probe, log_matrix, probe)
    values = lanczos_quadrature(lambda v: torch.einsum("bij,bj->bi", matrices, v), probe, dim)
    # Gauss quadrature on the whole (or invariant) Krylov space is exact; float64 round-off.
    torch.testing.assert_close(values, expected, rtol=1e-8, atol=1e-8)
    invariant = lanczos_quadrature(
        lambda v: torch.einsum("bij,bj->bi", matrices[:2], v), probe[:2], rank + 1
    )
    torch.testing.assert_close(invariant, expected[:2], rtol=1e-8, atol=1e-8)


def test_lanczos_of_a_multiple_of_the_identity_in_float32():
    value = lanczos_quadrature(lambda v: 2 * v, torch.ones(1, 4), 10)
    # v^T log(2 I) v = |v|^2 log 2 = 4 log 2; float32 round-off ~1e-7 relative.
    torch.testing.assert_close(value, torch.tensor([4 * math.log(2)]), rtol=1e-6, atol=0)


@pytest.mark.parametrize("dim", [4, 8])
def test_stochastic_logdet_of_a_fresh_potential_is_finite_and_exact(dim):
    torch.manual_seed(6)
    potential = QuadraticResidual(FICNN(dim, (16, 16)), dim)
    x, grad = gradient(potential, torch.randn(32, dim))
    exact = ExactLogDet()(x, grad).detach()
    estimate = StochasticLogDet(probes=1)(x, grad).detach()
    assert torch.isfinite(estimate).all()
    # A fresh potential has Hessian (1 + s) I: log H is diagonal, so the stated probe
    # variance 2 sum_{i != j} (log H)_ij^2 / probes is zero and only float32 round-off of the
    # D diagonal logs remains, ~D eps each way.
    torch.testing.assert_close(estimate, exact, rtol=0, atol=4 * dim * torch.finfo().eps)
