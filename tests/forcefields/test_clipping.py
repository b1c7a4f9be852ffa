"""Per-term clipping: exact below the threshold, C¹ at it, bounded derivative beyond."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import forcefields
from forcefields.analytic import summed_energy
from forcefields.clipping import (
    lennard_jones_switch_distance,
    linearised_harmonic,
    resolve_thresholds,
)
from forcefields.errors import ConfigError
from forcefields.terms import Coulomb, HarmonicDistances, LennardJones
from forcefields.units import COULOMB_CONSTANT
from systems.files import charmm_files

positive = st.floats(min_value=1e-2, max_value=1e5)


def _value_and_slope(fn, s: float) -> tuple[float, float]:
    t = torch.tensor([s], dtype=torch.float64, requires_grad=True)
    value = fn(t).sum()
    (slope,) = torch.autograd.grad(value, t)
    return value.item(), slope.item()


@settings(max_examples=200, deadline=None)
@given(k=positive, max_slope=positive, offset=st.floats(min_value=-10.0, max_value=10.0))
def test_harmonic_is_exact_inside_and_bounded_outside(k, max_slope, offset):
    switch = max_slope / (2 * k)
    fn = lambda d: linearised_harmonic(d, torch.tensor(k, dtype=torch.float64), max_slope)[0]  # noqa: E731
    value, slope = _value_and_slope(fn, offset)
    if abs(offset) <= switch:
        # Inside the switch the formula is k d² itself; only round-off differs
        # (the absolute floor covers underflow of tiny offsets).
        assert value == pytest.approx(k * offset**2, rel=1e-12, abs=1e-12 * max_slope)
        assert slope == pytest.approx(2 * k * offset, rel=1e-12, abs=1e-12 * max_slope)
    else:
        # Beyond it the slope is exactly ±max_slope (the linear continuation).
        assert abs(slope) == pytest.approx(max_slope, rel=1e-12)
        assert value < k * offset**2


@settings(max_examples=100, deadline=None)
@given(k=positive, max_slope=positive, side=st.sampled_from([-1.0, 1.0]))
def test_harmonic_is_c1_at_the_switch(k, max_slope, side):
    switch = side * max_slope / (2 * k)
    fn = lambda d: linearised_harmonic(d, torch.tensor(k, dtype=torch.float64), max_slope)[0]  # noqa: E731
    h = 1e-7 * max(1.0, abs(switch))
    inner_value, inner_slope = _value_and_slope(fn, switch - side * h)
    outer_value, outer_slope = _value_and_slope(fn, switch + side * h)
    # Value and slope on both sides of the switch differ only by O(h) terms: 2kh for the slope.
    assert outer_slope == pytest.approx(inner_slope, rel=1e-5, abs=4 * k * h)
    assert outer_value == pytest.approx(inner_value, rel=1e-6, abs=4 * max_slope * h)


def _pair_term(kind: str, r: float, max_slope, **params):
    indices = np.array([[0, 1]])
    if kind == "lj":
        term = LennardJones(
            indices, np.array([params["rmin"]]), np.array([params["epsilon"]]), max_slope
        )
    else:
        term = Coulomb(indices, np.array([params["qq"]]), max_slope)
    x = torch.zeros(1, 2, 3, dtype=torch.float64)
    x[0, 1, 0] = r
    x.requires_grad_(True)
    value = summed_energy(x, [term]).sum()
    (gradient,) = torch.autograd.grad(value, x)
    return value.item(), gradient[0, 1, 0].item()


@settings(max_examples=150, deadline=None)
@given(
    epsilon=st.floats(min_value=0.01, max_value=5.0),
    rmin=st.floats(min_value=0.1, max_value=0.5),
    max_slope=st.floats(min_value=10.0, max_value=1e5),
    fraction=st.floats(min_value=0.0, max_value=3.0),
)
def test_lennard_jones_clipping(epsilon, rmin, max_slope, fraction):
    switch = lennard_jones_switch_distance(np.array([epsilon]), np.array([rmin]), max_slope)[0]
    # The switch is where the exact wall's slope reaches the threshold (bisection to ~1e-15).
    ratio6 = (rmin / switch) ** 6
    exact_slope = 12 * epsilon / switch * (ratio6**2 - ratio6)
    assert exact_slope == pytest.approx(max_slope, rel=1e-9)
    r = fraction * rmin
    clipped_value, clipped_slope = _pair_term("lj", r, max_slope, epsilon=epsilon, rmin=rmin)
    assert math.isfinite(clipped_value) and math.isfinite(clipped_slope)
    if r < switch:
        # Inside the wall the slope is the tangent's: |dU/dr| = threshold (round-off 1e-9).
        assert abs(clipped_slope) <= max_slope * (1 + 1e-9)
    else:
        exact_value, _ = _pair_term("lj", r, None, epsilon=epsilon, rmin=rmin)
        assert clipped_value == pytest.approx(exact_value, rel=1e-12, abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(
    qq=st.floats(min_value=-1.0, max_value=1.0).filter(lambda q: abs(q) > 1e-3),
    max_slope=st.floats(min_value=10.0, max_value=1e5),
    r=st.floats(min_value=0.0, max_value=1.0),
)
def test_coulomb_clipping(qq, max_slope, r):
    switch = math.sqrt(COULOMB_CONSTANT * abs(qq) / max_slope)
    clipped_value, clipped_slope = _pair_term("coulomb", r, max_slope, qq=qq)
    assert math.isfinite(clipped_value) and math.isfinite(clipped_slope)
    if r < switch:
        assert abs(clipped_slope) <= max_slope * (1 + 1e-9)
    else:
        assert clipped_value == pytest.approx(COULOMB_CONSTANT * qq / r, rel=1e-12)
    h = 1e-7 * switch
    below = _pair_term("coulomb", switch - h, max_slope, qq=qq)
    above = _pair_term("coulomb", switch + h, max_slope, qq=qq)
    # C¹ at the switch: values and slopes agree up to O(h) (curvature 2C|qq|/r³ times h).
    assert above[0] == pytest.approx(below[0], abs=4 * max_slope * h)
    assert above[1] == pytest.approx(below[1], rel=1e-5)


def test_coincident_atoms_give_finite_energy_and_gradient():
    x = torch.zeros(1, 2, 3, dtype=torch.float64, requires_grad=True)
    indices = np.array([[0, 1]])
    terms = [
        LennardJones(indices, np.array([0.35]), np.array([0.3]), 1e4),
        Coulomb(indices, np.array([-0.4]), 1e4),
        HarmonicDistances(indices, np.array([1e5]), np.array([0.1]), 2e4),
    ]
    energy = summed_energy(x, terms).sum()
    (gradient,) = torch.autograd.grad(energy, x)
    assert torch.isfinite(energy)
    assert torch.isfinite(gradient).all()


def test_threshold_settings():
    assert all(value is None for value in resolve_thresholds(None).values())
    thresholds = resolve_thresholds({"lj": 5.0, "bond": None})
    assert thresholds["lj"] == 5.0 and thresholds["bond"] is None
    with pytest.raises(ConfigError, match="clip.bogus"):
        resolve_thresholds({"bogus": 1.0})
    with pytest.raises(ConfigError, match="clip.lj"):
        resolve_thresholds({"lj": -1.0})


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 0.0, -1.0])
def test_non_finite_or_non_positive_thresholds_are_refused(value):
    # An infinite threshold used to be accepted and turned the term into NaN
    # (inf · 0 in the linear continuation); None is the way to leave a term exact.
    with pytest.raises(ConfigError, match="clip.bond: threshold must be a finite positive"):
        resolve_thresholds({"bond": value})


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_short_collinear_angle_has_a_finite_gradient(dtype):
    """An exactly straight angle whose arms are 1e-5 nm: |u||v| is below float32's
    reach of 1/sin θ, yet the gradient is finite (the normal is normalised first)."""
    files = charmm_files("dialanine")
    energy = forcefields.load(files.psf, files.prm, dtype=dtype, clip="default")
    x = torch.zeros(1, 22, 3, dtype=dtype)
    x[0, 0, 0] = -1e-5  # CL; CLP (atom 4) at the origin; the angle CL-CLP-OL is 180°
    x[0, 5, 0] = 2e-5  # OL
    x.requires_grad_(True)
    angle = energy.terms(x)["angle"]
    (gradient,) = torch.autograd.grad(angle.sum(), x)
    assert torch.isfinite(angle).all()
    assert torch.isfinite(gradient).all()
