"""Debiased Sinkhorn divergence between point clouds."""

from __future__ import annotations

import math

import pytest
import torch

from molgen.losses import entropic_transport, sinkhorn_divergence


def _cloud(n: int, seed: int) -> torch.Tensor:
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_identical_clouds_without_diagonal_exclusion_give_zero():
    x = _cloud(128, 0)
    value = sinkhorn_divergence(x, x, exclude_diagonal=False)
    # The three terms are the same computation: only round-off remains.
    assert abs(value.item()) < 1e-12


def test_excluding_self_coupling_makes_identical_clouds_negative():
    x = _cloud(128, 0)
    # Forbidding self-coupling raises both autocorrelation terms, not the cross term.
    assert sinkhorn_divergence(x, x).item() < 0.0


def test_same_distribution_is_near_zero_and_a_shift_is_not():
    x, y = _cloud(256, 1), _cloud(256, 2)
    same = sinkhorn_divergence(x, y).item()
    shifted = sinkhorn_divergence(x, y + 1.0).item()
    # A unit shift in both coordinates costs about |shift|^2 = 2 in squared distance, less
    # the ~0.3 by which the two sample means happen to differ; the finite-sample value for
    # one distribution (about 0.07 here) is an order of magnitude below.
    assert abs(same) < 0.15
    assert shifted > 1.0
    assert shifted > 8 * abs(same)


def test_transport_between_two_points_matches_the_closed_form():
    x = torch.tensor([[0.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([[3.0, 4.0]], dtype=torch.float64)
    zero = torch.zeros(1, dtype=torch.float64)
    # One point to one point: the only coupling moves the unit mass, cost |x - y|^2 = 25.
    assert abs(entropic_transport(x, y, zero, zero).item() - 25.0) < 1e-9


def test_gradient_of_the_divergence_pulls_a_shifted_cloud_back():
    x = (_cloud(128, 3) + 1.0).requires_grad_()
    y = _cloud(128, 4)
    (gradient,) = torch.autograd.grad(sinkhorn_divergence(x, y, epsilon=0.1), x)
    # Descent moves x by -gradient; its mean should point from +1 back toward 0.
    assert (gradient.mean(dim=0) > 0).all()


def _peaked_log_weights(n: int, largest: float) -> torch.Tensor:
    """Log weights ``(n,)`` with one weight ``largest`` and the rest equal."""
    weights = torch.full((n,), (1.0 - largest) / (n - 1), dtype=torch.float64)
    weights[0] = largest
    return weights.log()


def test_a_weighted_cloud_against_itself_gives_zero_even_with_a_dominant_weight():
    # Importance weights above 1/2 are common (thesis eq. 22). A weighted cloud keeps its
    # diagonal, so the three terms are one computation and only round-off remains; with
    # the diagonal excluded no coupling exists and the iterations drift without bound.
    y, log_b = _cloud(64, 5), _peaked_log_weights(64, 0.8)
    value = sinkhorn_divergence(y, y, log_a=log_b, log_b=log_b, epsilon=0.01)
    assert abs(value.item()) < 1e-12


def test_the_divergence_to_a_peaked_weighted_cloud_does_not_drift_with_iterations():
    x, y, log_b = _cloud(64, 6), _cloud(64, 7), _peaked_log_weights(64, 0.8)
    short, long = (
        sinkhorn_divergence(x, y, log_b=log_b, epsilon=0.01, iterations=iterations).item()
        for iterations in (256, 2000)
    )
    # The cross term is still converging at epsilon = 0.01 (4 % between these counts);
    # the infeasible self term moved the value from about -2 to -16.
    assert short > 0.0 and long > 0.0
    assert abs(long - short) < 0.1 * abs(long)


def test_a_uniform_cloud_of_one_point_has_no_coupling_without_its_diagonal():
    with pytest.raises(ValueError, match="at least 2 points"):
        sinkhorn_divergence(_cloud(1, 0), _cloud(4, 1))


def test_the_thesis_iterations_reach_the_fixed_point_gradient_in_12_dimensions():
    # eps = 0.01 and 256 iterations (thesis §8) on 128 points of unit spread in 12-D: plain
    # iterations left the self term's gradient 43 % from the converged one; annealing eps
    # brings it within a few per cent (4096 iterations: converged to 1e-3)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(128, 12, dtype=torch.float64, generator=generator).requires_grad_(True)
    log_w = torch.full((128,), -math.log(128), dtype=torch.float64)

    def gradient(iterations: int) -> torch.Tensor:
        value = entropic_transport(x, x, log_w, log_w, 0.01, iterations, exclude_diagonal=True)
        return torch.autograd.grad(value, x)[0]

    converged, thesis = gradient(4096), gradient(256)
    assert ((thesis - converged).norm() / converged.norm()).item() < 0.05
