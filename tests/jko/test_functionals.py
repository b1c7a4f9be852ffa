"""Potential, interaction and internal-energy functionals against direct computations."""

import math

import pytest
import torch

from molgen.jko import (
    FICNN,
    ExactLogDet,
    InteractionEnergy,
    PotentialEnergy,
    QuadraticResidual,
    StepBatch,
    entropy,
    gradient,
    porous_medium,
)


def test_interaction_uses_half_convention_and_distinct_pairs():
    y = torch.tensor([[0.0], [1.0], [3.0]])
    energy = InteractionEnergy(lambda d: -d.abs().sum(-1).log())(StepBatch(y, y, torch.zeros(3)))
    # Pairs (0,1), (0,2), (1,2): mean of -log|d| over the 6 ordered pairs i != j, halved.
    expected = 0.5 * (-(math.log(1) + math.log(3) + math.log(2)) / 3)
    assert energy.item() == pytest.approx(expected)


def test_potential_energy_is_the_mean_of_v():
    y = torch.tensor([[1.0, 2.0], [0.0, 1.0]])
    energy = PotentialEnergy(lambda x: x.sum(-1), weight=2.0)(StepBatch(y, y, torch.zeros(2)))
    assert energy.item() == pytest.approx(2.0 * (3.0 + 1.0) / 2)


def random_potential() -> torch.nn.Module:
    torch.manual_seed(0)
    potential = QuadraticResidual(FICNN(2, (8, 8)), 2).double()
    with torch.no_grad():
        potential.network.output_weight.uniform_(0.0, 0.5)
    return potential


@pytest.mark.parametrize(
    "functional, per_mass",
    [
        (entropy(0.5), lambda r: 0.5 * r),
        (porous_medium(2.0), lambda r: torch.exp(r)),
        (porous_medium(3.0, weight=0.1), lambda r: 0.1 * torch.exp(2 * r) / 2),
    ],
)
def test_internal_energy_surrogate_has_exact_value_and_gradient(functional, per_mass):
    potential = random_potential()
    points = torch.randn(64, 2, dtype=torch.float64)
    log_density = -0.5 * points.square().sum(-1) - math.log(2 * math.pi)
    parameters = list(potential.parameters())

    def batch():
        x, grad = gradient(potential, points)
        return StepBatch(x.detach(), grad, log_density, ExactLogDet()(x, grad))

    surrogate = functional(batch())
    direct_batch = batch()
    direct = per_mass(direct_batch.log_density - direct_batch.logdet).mean()
    # The surrogate and E[f(xi)/xi] differentiated directly agree to round-off.
    assert surrogate.item() == pytest.approx(direct.item(), rel=1e-12)
    grads = [
        torch.autograd.grad(value, parameters, materialize_grads=True)
        for value in (surrogate, direct)
    ]
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


def test_entropy_of_a_pushed_gaussian():
    torch.manual_seed(1)
    scale = 1.7
    x = torch.randn(20000, 3, dtype=torch.float64)
    log_density = -0.5 * x.square().sum(-1) - 1.5 * math.log(2 * math.pi)
    leaf, grad = gradient(lambda z: 0.5 * scale * z.square().sum(-1), x)
    value = entropy()(StepBatch(leaf.detach(), grad, log_density, ExactLogDet()(leaf, grad)))
    # -H(N(0, scale^2 I)) in 3-D; Monte Carlo over log rho_0 with std sqrt(3/2)/sqrt(2e4) ~ 0.009.
    expected = -1.5 * math.log(2 * math.pi * math.e * scale**2)
    assert value.item() == pytest.approx(expected, abs=0.05)


def test_interaction_of_a_single_particle_is_refused_not_nan():
    energy = InteractionEnergy(lambda d: d.square().sum(-1))
    lone = torch.zeros(1, 2)
    with pytest.raises(ValueError, match="at least 2 particles"):
        energy(StepBatch(x=lone, y=lone, log_density=torch.zeros(1)))
