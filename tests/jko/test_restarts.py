"""Restarted JKO steps keep the fit with the lowest whole-cloud objective; the affine part
of the potential can learn more slowly than the network."""

import torch

import molgen.jko.flow as flow_module
from molgen.jko import (
    FICNN,
    FreeEnergy,
    Gaussian,
    InteractionEnergy,
    JKOFlow,
    PotentialEnergy,
    QuadraticResidual,
    StepSettings,
    cloud_objective,
    entropy,
    jko_loss,
    train_step,
)
from molgen.jko.exact_logdet import ExactLogDet


def _free_energy() -> FreeEnergy:
    # Stationary law N(0, I): the identity map is the exact JKO step from N(0, I).
    return FreeEnergy([PotentialEnergy(lambda x: 0.5 * x.square().sum(-1)), entropy()])


def test_cloud_objective_is_the_whole_cloud_loss_in_chunks():
    torch.manual_seed(0)
    potential = QuadraticResidual(FICNN(2, (8, 8)), 2)
    with torch.no_grad():
        potential.linear.fill_(0.3)
        potential.network.output_weight.fill_(0.1)
    x = torch.randn(300, 2)
    log_density = Gaussian.standard(2).log_prob(x)
    whole = jko_loss(potential, x, log_density, _free_energy(), ExactLogDet(), 0.5).item()
    chunked = cloud_objective(
        potential, x, log_density, _free_energy(), ExactLogDet(), 0.5, chunk_size=64
    )
    # float32 sums of 300 terms of order 1, regrouped: round-off ~1e-6
    assert abs(chunked - whole) < 1e-5


def test_no_chunk_of_the_cloud_is_a_lone_particle():
    # 65 particles in chunks of at most 64: two chunks of 33 and 32, not 64 and 1 (a lone
    # particle has no pair, so its interaction energy is undefined).
    torch.manual_seed(0)
    potential = QuadraticResidual(FICNN(2, (8,)), 2)
    interaction = FreeEnergy([InteractionEnergy(lambda d: d.square().sum(-1)), entropy()])
    x = torch.randn(65, 2)
    log_density = Gaussian.standard(2).log_prob(x)
    value = cloud_objective(potential, x, log_density, interaction, ExactLogDet(), 0.5, 64)
    assert torch.isfinite(torch.tensor(value))
    # 3 particles in chunks of at most 2 would leave one alone: one chunk of 3 instead
    three = cloud_objective(potential, x[:3], log_density[:3], interaction, ExactLogDet(), 0.5, 2)
    assert torch.isfinite(torch.tensor(three))


def _restarted_flow(monkeypatch, shifts: list[float], tolerance: float = 0.0) -> JKOFlow:
    """A flow whose fits set the linear term of the identity start to the given shifts."""
    shifts = iter(shifts)

    def fake_train_step(potential, particles, log_density, functional, logdet, settings, progress):
        shift = next(shifts)
        with torch.no_grad():
            potential.linear.fill_(shift)
        return [shift]

    monkeypatch.setattr(flow_module, "train_step", fake_train_step)
    torch.manual_seed(0)
    # Stationary law N(1, I): from N(0, I) the best pure shift is below 1, and shifts of
    # the wrong sign are worse than the identity start.
    functional = FreeEnergy([PotentialEnergy(lambda x: 0.5 * (x - 1).square().sum(-1)), entropy()])
    return JKOFlow(
        Gaussian.standard(2),
        functional,
        lambda: QuadraticResidual(FICNN(2, (8, 8)), 2),
        StepSettings(step_size=0.5, iterations=1, restarts=3, restart_tolerance=tolerance),
        cloud_size=512,
        identity_iterations=0,
    )


def test_restarts_refit_until_a_fit_beats_its_start(monkeypatch):
    flow = _restarted_flow(monkeypatch, [-1.0, 0.3, 0.2])
    losses = flow.step()
    assert losses == [0.3]
    assert torch.all(flow.potentials[-1].linear == 0.3)
    first, second = flow.restart_objectives
    assert first > flow.start_objective > second


def test_restarts_keep_the_lowest_objective_when_every_fit_fails(monkeypatch):
    flow = _restarted_flow(monkeypatch, [-1.0, -0.2, -2.0])
    start = flow.particles.clone()
    assert flow.step() == [-0.2]
    objectives = flow.restart_objectives
    assert len(objectives) == 3 and objectives[1] == min(objectives)
    assert min(objectives) > flow.start_objective
    # float32 particles of order 1 moved by 0.2: round-off ~1e-7
    assert torch.allclose(flow.particles, start - 0.2, rtol=0, atol=1e-5)


def test_a_fit_that_beats_a_bad_warm_start_but_not_the_identity_is_redone(monkeypatch):
    # A warm start shifting the cloud by 5 scores far worse than staying put. A fit shifting
    # by -0.5 beats it but not the identity (per coordinate, 1/2 (s-1)^2 + s^2 over a
    # constant: 1.375 against 0.5), so it is redone; the shift 0.3 (0.335) is kept.
    flow = _restarted_flow(monkeypatch, [-0.5, 0.3, 0.2])
    bad_start = flow.make_potential()
    with torch.no_grad():
        bad_start.linear.fill_(5.0)
    flow.potentials.append(bad_start.requires_grad_(False))
    assert flow.step() == [0.3]
    worse_than_identity, kept = flow.restart_objectives
    assert worse_than_identity > flow.start_objective > kept


def test_a_fit_within_the_tolerance_of_its_start_is_accepted(monkeypatch):
    # The shift -0.2 is worse than the identity start (per coordinate 1/2 (s-1)^2 + s^2 over
    # a constant: 0.76 against 0.5, plus sampling noise of the cloud): refitted without a
    # tolerance, accepted with one that covers the gap.
    strict = _restarted_flow(monkeypatch, [-0.2, 0.3, 0.2])
    assert strict.step() == [0.3]
    gap = strict.restart_objectives[0] - strict.start_objective
    assert gap > 0
    tolerant = _restarted_flow(monkeypatch, [-0.2, 0.3, 0.2], tolerance=2 * gap)
    assert tolerant.step() == [-0.2]
    assert len(tolerant.restart_objectives) == 1


def test_affine_part_moves_at_the_scaled_learning_rate():
    torch.manual_seed(0)
    potential = QuadraticResidual(FICNN(2, (8, 8)), 2)
    with torch.no_grad():
        potential.network.output_weight.fill_(0.1)
    before = {name: value.detach().clone() for name, value in potential.named_parameters()}
    x = torch.randn(256, 2) + 1.0
    log_density = Gaussian.standard(2).log_prob(x - 1.0)
    settings = StepSettings(
        step_size=0.5, iterations=1, learning_rate=0.01, anneal=False, affine_lr_scale=0.1
    )
    train_step(potential, x, log_density, _free_energy(), ExactLogDet(), settings)
    # Adam's first update moves each parameter with a non-zero gradient by its learning rate
    # (less eps / |g|, ~1e-8 relative), to float32 round-off of parameters of order 1.
    moved = {
        name: (value.detach() - before[name]).abs().max().item()
        for name, value in potential.named_parameters()
    }
    assert abs(moved["linear"] - 0.001) < 1e-6
    assert abs(moved["factor"] - 0.001) < 1e-6
    assert abs(moved["network.output_weight"] - 0.01) < 1e-6
    assert abs(moved["network.input_layers.0.bias"] - 0.01) < 1e-6
