"""The Flow distribution and the thesis presets."""

from __future__ import annotations

import torch

from molgen.flows import (
    Bias,
    Composite,
    Diagonal,
    Flow,
    SplineCoupling,
    Standardize,
    double_well_stack,
    molecule_stack,
)


def test_log_prob_of_affine_flow_is_the_gaussian_density():
    mean = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    std = torch.tensor([0.5, 2.0, 3.0], dtype=torch.float64)
    flow = Flow(Standardize(mean, std), dim=3)
    x = torch.randn(7, 3, dtype=torch.float64)
    expected = torch.distributions.Normal(mean, std).log_prob(x).sum(dim=1)
    # Analytic density; float64 round-off only.
    assert torch.allclose(flow.log_prob(x), expected, rtol=0, atol=1e-12)
    assert torch.allclose(flow.energy_of_generation(x), -expected, rtol=0, atol=1e-12)


def test_sample_log_prob_matches_inverse_pass():
    torch.manual_seed(0)
    flow = Flow(Composite(double_well_stack(6, width=16, repeats=2), Diagonal(6), Bias(6)), 6)
    with torch.no_grad():
        for parameter in flow.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
    x, log_prob = flow.sample(64)
    # Float32 forward vs inverse pass through 8 coupling blocks: 1e-4 nats is round-off.
    assert torch.allclose(flow.log_prob(x), log_prob, rtol=0, atol=1e-4)


def test_sample_is_reproducible_with_a_generator():
    flow = Flow(double_well_stack(4, width=8, repeats=1), 4)
    first, _ = flow.sample(3, generator=torch.Generator().manual_seed(5))
    second, _ = flow.sample(3, generator=torch.Generator().manual_seed(5))
    assert torch.equal(first, second)


def test_conditional_flow_accepts_a_single_context_vector():
    flow = Flow(double_well_stack(4, context_dim=2, width=8, repeats=1), 4)
    x, log_prob = flow.sample(5, context=torch.ones(2))
    assert x.shape == (5, 4) and log_prob.shape == (5,)
    assert torch.allclose(flow.log_prob(x, torch.ones(2)), log_prob, rtol=0, atol=1e-5)


def test_presets_have_the_thesis_shapes_and_run():
    dw = double_well_stack(12)
    assert len(dw.layers) == 32
    assert dw.layers[0].conditioner.hidden.out_features == 64
    molecule = molecule_stack(30, context_dim=4)
    assert len(molecule.layers) == 96
    assert molecule.layers[0].conditioner.hidden.out_features == 256
    x, log_prob = Flow(molecule, 30).sample(4, context=torch.zeros(4))
    assert torch.isfinite(x).all() and torch.isfinite(log_prob).all()


def test_a_flow_without_parameters_draws_latents_in_the_dtype_of_its_buffers():
    flow = Flow(
        Standardize(
            torch.zeros(3, dtype=torch.float64), torch.full((3,), 2.0, dtype=torch.float64)
        ),
        3,
    )
    assert flow._reference().dtype == torch.float64
    x, log_prob = flow.sample(4)
    assert x.dtype == log_prob.dtype == torch.float64


def test_a_single_context_row_serves_a_batch_with_a_non_finite_point():
    # a (1, C) context was indexed with the batch's finite-row mask and failed
    flow = Flow(double_well_stack(4, context_dim=2, width=8, repeats=1), 4).double()
    x = torch.randn(5, 4, dtype=torch.float64)
    context = torch.ones(1, 2, dtype=torch.float64)
    expected = flow.log_prob(x, context)
    x[3, 0] = torch.nan
    density = flow.log_prob(x, context)
    assert torch.isnan(density[3])
    torch.testing.assert_close(density[[0, 1, 2, 4]], expected[[0, 1, 2, 4]], rtol=0, atol=0)


def test_the_density_of_a_non_finite_point_is_nan_and_the_others_unchanged():
    # the spline inverse asserts on a NaN anywhere in the batch, ending a training step
    torch.manual_seed(0)
    flow = Flow(
        Composite(SplineCoupling(4, "first", 8, bins=5, tail_bound=3.0), Bias(4)), 4
    ).double()
    x = torch.randn(3, 4, dtype=torch.float64)
    expected = flow.log_prob(x)
    x[1, 2] = torch.nan
    density = flow.log_prob(x)
    assert torch.isnan(density[1])
    torch.testing.assert_close(density[[0, 2]], expected[[0, 2]], rtol=0, atol=0)
