"""Self-normalised expectations, Kish ESS and log Z_B on Gaussians with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pymbar import timeseries

from forcefields.errors import ShapeMismatchError
from molgen.estimate import (
    EssThreshold,
    effective_sample_size,
    importance_expectation,
    kish_ess,
    log_partition_function,
    normalized_weights,
)
from tests.molgen.estimate.gaussians import (
    autoregressive,
    importance_samples,
    log_partition,
    weight_moment,
)

SIGMA_B, SIGMA_G = 1.0, 2.0


def test_expectation_of_x_squared_matches_the_target_variance():
    rng = np.random.default_rng(1)
    x, log_w = importance_samples(rng, 20_000, SIGMA_B, 0.0, SIGMA_G)
    estimate = importance_expectation(x**2, log_w)
    assert estimate.trusted
    # 4 standard errors: a correct estimator fails this 6e-5 of the time.
    assert abs(estimate.value - SIGMA_B**2) < 4 * estimate.stderr
    # The error bar is informative: E_B[x^2] is estimated to better than 3 %.
    assert estimate.stderr < 0.03


def test_equal_weights_give_the_plain_mean_and_its_standard_error():
    values = np.random.default_rng(2).normal(3.0, 2.0, 400)
    estimate = importance_expectation(values)
    assert estimate.value == pytest.approx(values.mean(), rel=1e-12)
    # Delta-method error with equal weights is the population std / sqrt(n).
    assert estimate.stderr == pytest.approx(values.std() / math.sqrt(values.size), rel=1e-12)


def test_log_weights_of_huge_magnitude_do_not_overflow():
    values = np.array([1.0, 2.0, 3.0])
    shifted = importance_expectation(values, np.array([1000.0, 1001.0, 1002.0]), EssThreshold(1, 0))
    plain = importance_expectation(values, np.array([0.0, 1.0, 2.0]), EssThreshold(1, 0))
    assert shifted.value == pytest.approx(plain.value, rel=1e-12)
    assert np.isfinite(normalized_weights(np.array([-1e4, -1e4 + 1.0]))).all()


def test_kish_ess_limits_and_the_gaussian_value():
    assert kish_ess(np.zeros(250)) == pytest.approx(250.0)
    assert kish_ess(np.array([0.0, -50.0, -50.0, -50.0])) == pytest.approx(1.0, abs=1e-12)
    n = 200_000
    _, log_w = importance_samples(np.random.default_rng(3), n, SIGMA_B, 0.0, SIGMA_G)
    expected_fraction = 1.0 / weight_moment(2, SIGMA_B, SIGMA_G)
    # Relative sd of mean(w^2) is sqrt(E[w^4]/E[w^2]^2 - 1)/sqrt(n) ~ 0.2 % here;
    # 2 % is ten times that.
    assert kish_ess(log_w) / n == pytest.approx(expected_fraction, rel=0.02)


def test_log_partition_function_and_its_bootstrap_interval():
    _, log_w = importance_samples(np.random.default_rng(4), 5_000, SIGMA_B, 0.5, 1.5)
    result = log_partition_function(log_w, n_bootstrap=400, seed=7)
    exact = log_partition(SIGMA_B)
    # 4 standard errors (false-failure probability 6e-5).
    assert abs(result.estimate.value - exact) < 4 * result.estimate.stderr
    low, high = result.interval
    assert low < result.estimate.value < high
    # A 95 % interval spans about 2 * 1.96 standard errors; the bootstrap and the delta
    # method agree on that width to within a factor 1.5 at this sample size.
    width = high - low
    assert 2.6 * result.estimate.stderr < width < 5.9 * result.estimate.stderr
    again = log_partition_function(log_w, n_bootstrap=400, seed=7)
    assert again.interval == result.interval


def test_refusal_when_the_proposal_misses_the_target():
    x, log_w = importance_samples(np.random.default_rng(5), 1_000, SIGMA_B, 8.0, 0.5)
    assert kish_ess(log_w) < 50
    estimate = importance_expectation(x**2, log_w)
    assert not estimate.trusted
    assert math.isnan(estimate.value)
    assert "too few effective samples" in estimate.reason
    log_z = log_partition_function(log_w)
    assert not log_z.estimate.trusted
    assert log_z.as_dict()["value"] is None


def test_a_correlated_observable_of_equal_weight_frames_is_refused():
    # AR(1) with ρ = 0.96 (g = 49 for the series; pymbar estimates less from 100 frames).
    values = autoregressive(np.random.default_rng(0), 100, 1.0, 0.96)
    g = timeseries.statistical_inefficiency(values)
    assert 100 / g < 50  # the premise: n/g is below the default threshold of 50
    assert importance_expectation(values).trusted  # as independent samples: ESS 100
    estimate = importance_expectation(values, correlated=True)
    assert not estimate.trusted and f"ESS of the weights {100 / g:.1f}" in estimate.reason


def test_log_partition_of_a_time_series_counts_the_given_series():
    labels = autoregressive(np.random.default_rng(0), 100, 1.0, 0.96) > 0
    g = timeseries.statistical_inefficiency(labels.astype(np.float64))
    log_w = np.random.default_rng(1).normal(0.0, 0.1, 100)  # nearly equal weights
    assert log_partition_function(log_w, correlated=True).estimate.trusted
    refused = log_partition_function(log_w, correlated=True, series=labels)
    assert not refused.estimate.trusted
    # Kish ESS of the weights over the indicator's inefficiency (the weights are white
    # noise, their own g is below the indicator's).
    assert refused.ess == pytest.approx(kish_ess(log_w) / g, rel=1e-9)


def test_a_series_of_another_length_is_a_shape_error():
    with pytest.raises(ShapeMismatchError, match="does not match 5 samples"):
        effective_sample_size(np.zeros(5), correlated=True, series=np.zeros((2, 6)))


def test_log_partition_interval_of_mostly_zero_weights_is_not_nan():
    """Bootstrap resamples that draw only zero weights have log Z = -inf: a percentile
    between two of them is -inf, not NaN (numpy interpolates -inf - -inf)."""
    log_w = np.full(100, -np.inf)
    log_w[:2] = 0.0
    result = log_partition_function(log_w, threshold=EssThreshold(0, 0))
    low, high = result.interval
    assert low == -np.inf and np.isfinite(high)
    assert result.as_dict()["interval"] == [None, high]


def test_a_sample_of_zero_weight_and_nan_value_is_left_out():
    # molgen sample gives a sample whose coordinates overflowed log w = -inf and a NaN
    # energy: 0 x NaN made the mean NaN, reported as a trusted null
    rng = np.random.default_rng(9)
    values, log_w = rng.normal(size=200), rng.normal(scale=0.1, size=200)
    expected = importance_expectation(values[1:], log_w[1:], EssThreshold(1, 0))
    values[0], log_w[0] = np.nan, -np.inf
    estimate = importance_expectation(values, log_w, EssThreshold(1, 0))
    assert estimate.value == pytest.approx(expected.value, rel=1e-12)
    values[1] = np.nan
    assert not importance_expectation(values, log_w, EssThreshold(1, 0)).trusted
