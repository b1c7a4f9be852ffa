"""Every flow layer: exact inverse, log-determinant equal to a brute-force Jacobian."""

from __future__ import annotations

import pytest
import torch

from molgen.flows import (
    AdditiveCoupling,
    Bias,
    Composite,
    Diagonal,
    Householder,
    MultiplicativeCoupling,
    SplineCoupling,
    Standardize,
    double_well_stack,
)

DIM = 5
CONTEXT = 3


def _randomised(layer: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Move every parameter away from its (identity) initial value, in float64."""
    generator = torch.Generator().manual_seed(seed)
    layer = layer.double()
    with torch.no_grad():
        for parameter in layer.parameters():
            parameter.copy_(0.4 * torch.randn(parameter.shape, generator=generator))
    return layer


def _standardize() -> Standardize:
    generator = torch.Generator().manual_seed(1)
    mean = torch.randn(DIM, generator=generator, dtype=torch.float64)
    std = torch.rand(DIM, generator=generator, dtype=torch.float64) + 0.5
    return Standardize(mean, std)


LAYERS = {
    "bias": lambda: Bias(DIM),
    "diagonal": lambda: Diagonal(DIM),
    "householder": lambda: Householder(DIM),
    "additive_first": lambda: AdditiveCoupling(DIM, "first", 16),
    "additive_second_context": lambda: AdditiveCoupling(DIM, "second", 16, CONTEXT),
    "multiplicative_first_context": lambda: MultiplicativeCoupling(DIM, "first", 16, CONTEXT),
    "multiplicative_second": lambda: MultiplicativeCoupling(DIM, "second", 16),
    "spline_first": lambda: SplineCoupling(DIM, "first", 16, bins=6, tail_bound=3.0),
    "spline_second_context": lambda: SplineCoupling(DIM, "second", 16, CONTEXT, 6, 3.0),
    "standardize": _standardize,
    "stack_context": lambda: double_well_stack(DIM, CONTEXT, width=8, repeats=2),
    "composite": lambda: Composite(
        Diagonal(DIM),
        Householder(DIM),
        MultiplicativeCoupling(DIM, "first", 8, CONTEXT),
        SplineCoupling(DIM, "second", 8, CONTEXT, 4, 3.0),
        Bias(DIM),
        _standardize(),
    ),
}


def _inputs(seed: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(6, DIM, generator=generator, dtype=torch.float64)
    context = torch.randn(6, CONTEXT, generator=generator, dtype=torch.float64)
    return z, context


@pytest.mark.parametrize("name", LAYERS)
def test_inverse_undoes_forward(name):
    layer = _randomised(LAYERS[name]()).double()
    z, context = _inputs()
    x, forward_logdet = layer(z, context)
    z_back, inverse_logdet = layer.inverse(x, context)
    # Float64 round-off through at most ~20 elementwise maps: 1e-10 leaves a wide margin.
    assert torch.allclose(z_back, z, atol=1e-10, rtol=0)
    assert torch.allclose(forward_logdet, -inverse_logdet, atol=1e-10, rtol=0)
    assert not torch.allclose(x, z, atol=1e-3), "layer should not be the identity here"


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("direction", ["forward", "inverse"])
def test_logabsdet_matches_brute_force_jacobian(name, direction):
    layer = _randomised(LAYERS[name]()).double()
    z, context = _inputs()
    apply = layer if direction == "forward" else layer.inverse
    _, logabsdet = apply(z, context)
    for i in range(z.shape[0]):

        def single(point, i=i):
            return apply(point[None], context[i : i + 1])[0][0]

        jacobian = torch.autograd.functional.jacobian(single, z[i])
        _, brute_force = torch.linalg.slogdet(jacobian)
        # Both are exact up to float64 round-off on a 5x5 determinant.
        assert abs(logabsdet[i].item() - brute_force.item()) < 1e-10


@pytest.mark.parametrize(
    "name", ["additive_second_context", "multiplicative_first_context", "spline_second_context"]
)
def test_conditional_layers_depend_on_context(name):
    layer = _randomised(LAYERS[name]())
    z, context = _inputs()
    x, logdet = layer(z, context)
    x_other, logdet_other = layer(z, context + 1.0)
    assert (x - x_other).abs().max() > 1e-3
    with pytest.raises(ValueError):
        layer(z)


def test_spline_is_identity_outside_its_interval():
    layer = _randomised(SplineCoupling(DIM, "first", 16, bins=6, tail_bound=3.0))
    z = torch.full((2, DIM), 4.0, dtype=torch.float64)
    x, logabsdet = layer(z)
    assert torch.equal(x, z)
    assert torch.equal(logabsdet, torch.zeros(2, dtype=torch.float64))


@pytest.mark.parametrize("factory", [Diagonal, lambda d: double_well_stack(d, 2)])
def test_untrained_layers_start_as_identity(factory):
    layer = factory(DIM)
    z = torch.randn(8, DIM)
    context = torch.randn(8, 2)
    x, logabsdet = layer(z, context)
    assert torch.equal(x, z)
    assert torch.equal(logabsdet, torch.zeros(8))


def test_standardize_fit_maps_data_to_unit_scale():
    generator = torch.Generator().manual_seed(3)
    data = 10.0 * torch.randn(500, DIM, generator=generator, dtype=torch.float64) + 3.0
    z, _ = Standardize.fit(data).inverse(data)
    # Exact by construction of the fitted mean and std, up to round-off.
    assert torch.allclose(z.mean(dim=0), torch.zeros(DIM, dtype=torch.float64), rtol=0, atol=1e-12)
    assert torch.allclose(z.std(dim=0), torch.ones(DIM, dtype=torch.float64), rtol=0, atol=1e-12)
    assert not list(Standardize.fit(data).parameters())


def test_standardize_refuses_one_row_and_non_finite_or_zero_std():
    with pytest.raises(ValueError, match=r"\(N >= 2, D\), got \(1, 5\)"):
        Standardize.fit(torch.randn(1, DIM))
    std = torch.tensor([1.0, float("nan"), 0.0, float("inf"), 1e-45])
    with pytest.raises(ValueError, match=r"feature\(s\) \[1, 2, 3, 4\]"):
        Standardize(torch.zeros(DIM), std)


def test_standardize_refuses_a_std_that_is_not_one_per_feature():
    # a scalar std scaled every feature but counted its log once: log-det log 2, not 3 log 2
    with pytest.raises(ValueError, match=r"shape \(D,\); got \(3,\) and \(\)"):
        Standardize(torch.zeros(3), torch.tensor(2.0))
    with pytest.raises(ValueError, match=r"got \(3,\) and \(1,\)"):
        Standardize(torch.zeros(3), torch.tensor([2.0]))


def test_a_context_of_the_wrong_width_is_named():
    layer = AdditiveCoupling(DIM, "first", 8, CONTEXT)
    with pytest.raises(ValueError, match=f"context of width 7; this flow takes {CONTEXT}"):
        layer(torch.zeros(2, DIM), torch.zeros(2, 7))


@pytest.mark.parametrize("layer", [AdditiveCoupling, MultiplicativeCoupling, SplineCoupling])
def test_a_coupling_of_one_feature_is_refused_when_built(layer):
    # used to build, then fail at the first call ("cannot reshape tensor of 0 elements")
    with pytest.raises(ValueError, match="needs dim >= 2"):
        layer(1, "first", hidden_features=8)


@pytest.mark.parametrize("name", LAYERS)
def test_every_layer_maps_an_empty_batch_both_ways(name):
    # a batch whose every row is non-finite reaches the layers as an empty batch
    layer = _randomised(LAYERS[name]()).double()
    z, context = _inputs()
    x, logdet = layer(z[:0], context[:0])
    back, inverse_logdet = layer.inverse(x, context[:0])
    assert x.shape == (0, DIM) and back.shape == (0, DIM)
    assert logdet.shape == (0,) and inverse_logdet.shape == (0,)


def test_a_float32_spline_inverse_with_steep_bins_maps_the_batch():
    # nflows asserts that the inverse's discriminant is >= 0; float32 rounding broke that
    # for steep bins (spline parameters of scale 10 failed in most batches of 1000 points)
    layer = SplineCoupling(2, "first", 8, bins=8, tail_bound=5.0)
    generator = torch.Generator().manual_seed(0)
    params = 10.0 * torch.randn(1000, 1, layer.parameters_per_feature, generator=generator)
    z = 5.0 * (2 * torch.rand(1000, 1, generator=generator) - 1)
    x, _ = layer._spline(z.double(), params.double(), inverse=False)
    with pytest.raises(AssertionError):  # the premise: nflows refuses this float32 batch
        layer._spline(x.float(), params, inverse=True)
    z_back, logdet = layer._elementwise(x.float(), params, inverse=True)
    assert z_back.dtype == torch.float32 and bool(torch.isfinite(z_back).all())
    # the batch is mapped in float64: the float64 inverse of the same float32 inputs
    expected, expected_logdet = layer._spline(x.float().double(), params.double(), inverse=True)
    torch.testing.assert_close(z_back, expected.float(), rtol=0, atol=0)
    torch.testing.assert_close(logdet, expected_logdet.float(), rtol=0, atol=0)
