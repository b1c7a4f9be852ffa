"""Samples of zero weight (a generator's overflowed draws: NaN coordinates and energies,
``log w = -inf``) count for nothing in the perturbation and BAR paths, as in the plain
importance estimates, instead of ending them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from forcefields.errors import ConfigError, NonFiniteCoordinatesError
from molgen.estimate.energies import reduced_energies
from molgen.estimate.forcefield import predict_variant
from molgen.estimate.two_sets import two_set_free_energy


def _squared_norm(x: torch.Tensor) -> torch.Tensor:
    return x.square().sum(dim=(1, 2))


def _energies_with_an_overflowed_first_sample(n: int = 400):
    rng = np.random.default_rng(0)
    log_w = rng.normal(0.0, 0.3, n)
    log_w[0] = -np.inf
    u_b = rng.normal(0.0, 1.0, n)
    u_c = u_b + rng.normal(0.1, 0.2, n)
    u_b[0] = u_c[0] = np.nan
    return log_w, u_b, u_c


def test_skipped_frames_are_not_evaluated_and_others_still_must_be_finite():
    frames = np.random.default_rng(1).normal(size=(5, 4, 3))
    frames[2, 1, 0] = np.nan
    skip = np.zeros(5, dtype=bool)
    skip[2] = True
    values = reduced_energies(_squared_norm, frames, 2.0, batch_size=2, skip=skip)
    assert np.isnan(values[2])
    expected = 2.0 * (frames[~skip] ** 2).sum(axis=(1, 2))
    np.testing.assert_allclose(values[~skip], expected, rtol=1e-12)
    with pytest.raises(NonFiniteCoordinatesError, match=r"frame\(s\) \[2\]"):
        reduced_energies(_squared_norm, frames, 2.0)


def test_the_perturbation_ignores_a_zero_weight_sample_with_nan_energies():
    log_w, u_b, u_c = _energies_with_an_overflowed_first_sample()
    with_it = predict_variant(None, (), u_b, u_c, log_w).perturbation
    without_it = predict_variant(None, (), u_b[1:], u_c[1:], log_w[1:]).perturbation
    assert with_it.delta_f.value == pytest.approx(without_it.delta_f.value, rel=1e-12)
    assert with_it.delta_f.stderr == pytest.approx(without_it.delta_f.stderr, rel=1e-12)
    weighted = log_w.copy()
    weighted[0] = 0.0
    with pytest.raises(ConfigError, match="NaN reduced energy"):
        predict_variant(None, (), u_b, u_c, weighted)


def test_bar_ignores_a_zero_weight_sample_with_nan_work():
    log_w, u_b, u_c = _energies_with_an_overflowed_first_sample()
    reverse = np.random.default_rng(2).normal(-0.1, 0.2, 400)
    with_it = two_set_free_energy(u_c - u_b, reverse, log_w, None)
    without_it = two_set_free_energy(u_c[1:] - u_b[1:], reverse, log_w[1:], None)
    forward, forward_without = with_it.fep_forward.delta_f, without_it.fep_forward.delta_f
    assert forward.value == pytest.approx(forward_without.value, rel=1e-12)
    assert np.isfinite(with_it.bar.delta_f.value)
    with pytest.raises(ConfigError, match="forward reduced work"):
        two_set_free_energy(u_c - u_b, reverse, np.zeros(400), None)


def test_no_frames_give_no_energies():
    assert reduced_energies(_squared_norm, np.zeros((0, 4, 3)), 1.0).shape == (0,)
