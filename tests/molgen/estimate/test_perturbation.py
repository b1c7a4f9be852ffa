"""Free-energy perturbation, BAR and MBAR against the analytic ΔF of Gaussians, and the
refusal to give a number when the distributions do not overlap."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pymbar import timeseries
from scipy.stats import norm

from molgen.estimate import (
    bar_free_energy,
    free_energy_perturbation,
    mbar_free_energies,
    predict_variant,
)
from tests.molgen.estimate.gaussians import (
    autoregressive,
    importance_samples,
    overlap_coefficient,
    reduced_energy,
)

SIGMA_B, SIGMA_C = 1.0, 1.3
EXACT = -math.log(SIGMA_C / SIGMA_B)


def _delta_u(x: np.ndarray, sigma_from: float, sigma_to: float) -> np.ndarray:
    return reduced_energy(x, sigma_to) - reduced_energy(x, sigma_from)


def test_fep_from_target_samples_and_from_weighted_proposal_samples():
    rng = np.random.default_rng(10)
    plain = free_energy_perturbation(_delta_u(rng.normal(0, SIGMA_B, 20_000), SIGMA_B, SIGMA_C))
    x, log_w = importance_samples(rng, 20_000, SIGMA_B, 0.2, 1.5)
    weighted = free_energy_perturbation(_delta_u(x, SIGMA_B, SIGMA_C), log_w)
    for result in (plain, weighted):
        assert result.delta_f.trusted
        # 4 standard errors: false-failure probability 6e-5.
        assert abs(result.delta_f.value - EXACT) < 4 * result.delta_f.stderr
        assert result.delta_f.stderr < 0.02
    assert plain.ess == pytest.approx(20_000)
    assert weighted.ess < 20_000
    # Overlap coefficient: a weighted mean of values in [0, 1] with sd < 0.5 / sqrt(ESS)
    # < 0.005; 0.03 is six of those.
    assert plain.overlap == pytest.approx(overlap_coefficient(SIGMA_B, SIGMA_C), abs=0.03)


def test_fep_in_energy_units():
    x = np.random.default_rng(11).normal(0, SIGMA_B, 5_000)
    in_kT = free_energy_perturbation(_delta_u(x, SIGMA_B, SIGMA_C))
    in_kj = free_energy_perturbation(_delta_u(x, SIGMA_B, SIGMA_C), kT=2.5)
    assert in_kj.delta_f.value == pytest.approx(2.5 * in_kT.delta_f.value, rel=1e-12)
    assert in_kj.delta_f.stderr == pytest.approx(2.5 * in_kT.delta_f.stderr, rel=1e-12)


def test_bar_and_mbar_agree_with_the_analytic_free_energy():
    rng = np.random.default_rng(12)
    x_b, x_c = rng.normal(0, SIGMA_B, 3_000), rng.normal(0, SIGMA_C, 3_000)
    bar = bar_free_energy(_delta_u(x_b, SIGMA_B, SIGMA_C), _delta_u(x_c, SIGMA_C, SIGMA_B))
    assert bar.delta_f.trusted and bar.overlap > 0.5
    assert abs(bar.delta_f.value - EXACT) < 4 * bar.delta_f.stderr

    sigmas = np.array([1.0, 1.3, 1.7])
    samples = np.concatenate([rng.normal(0, s, 2_000) for s in sigmas])
    u_kn = np.stack([reduced_energy(samples, s) for s in sigmas])
    mbar = mbar_free_energies(u_kn, np.full(3, 2_000))
    for i in range(3):
        for j in range(3):
            exact = -math.log(sigmas[j] / sigmas[i])
            estimate = mbar.estimate(i, j)
            assert abs(estimate.value - exact) <= 4 * estimate.stderr + 1e-12
    assert mbar.overlap_matrix.shape == (3, 3)


def test_disjoint_distributions_are_refused():
    rng = np.random.default_rng(13)
    x_b = rng.normal(0.0, 1.0, 2_000)
    far = 30.0

    def shift(x, centre_to):
        return (x - centre_to) ** 2 / 2 - (x - (far - centre_to)) ** 2 / 2

    fep = free_energy_perturbation(shift(x_b, far))
    assert not fep.delta_f.trusted
    assert math.isnan(fep.delta_f.value)
    assert "too few effective samples" in fep.delta_f.reason
    # One sample carries all the perturbed weight; the estimated overlap is then about
    # that sample's share 1/n = 5e-4, and far below the 0.73 of the σ=1 vs 1.3 case.
    assert fep.ess_perturbed < 2 and fep.overlap < 0.01

    x_c = rng.normal(far, 1.0, 2_000)
    bar = bar_free_energy(shift(x_b, far), shift(x_c, 0.0))
    assert not bar.delta_f.trusted and bar.overlap < 0.03
    assert bar.as_dict()["delta_f"]["value"] is None


def test_variant_prediction_moves_populations_by_the_known_amount():
    rng = np.random.default_rng(14)
    x = rng.normal(0.0, 1.0, 20_000)
    labels = (x > 0.5).astype(np.int64)
    # U_C = U_B + 0.3 x (a tilt): p_C is N(-0.3, 1), so P_C(x > 0.5) = Φ(-0.8).
    prediction = predict_variant(
        labels, ("low", "high"), reduced_energy(x, 1.0), x**2 / 2 + 0.3 * x
    )

    p_high = norm.sf(0.8)
    variant = prediction.populations_variant["high"]
    assert abs(variant.value - p_high) < 4 * variant.stderr
    exact_delta_f = -math.log(p_high / (1 - p_high))
    delta_f = prediction.free_energies_variant["low->high"]
    assert abs(delta_f.value - exact_delta_f) < 4 * delta_f.stderr
    # The ensemble ΔF_BC of a tilt: Z_C / Z_B = exp(0.3² / 2).
    assert (
        abs(prediction.perturbation.delta_f.value + 0.045)
        < 4 * prediction.perturbation.delta_f.stderr
    )
    assert prediction.trusted


def test_equal_weight_frames_count_the_correlation_of_their_influence_terms():
    # Δu of 100 frames that decorrelate slowly (AR(1), ρ = 0.96, g = 49 for the series).
    delta_u = 0.2 * autoregressive(np.random.default_rng(0), 100, 1.0, 0.96)
    result = free_energy_perturbation(delta_u, correlated=True)
    # The influence terms are 1/n − w̄^C_i, with w̄^C ∝ exp(−Δu): their inefficiency,
    # not the g = 1 of the constant weights, sets the ESS of the sample weights.
    weights_c = np.exp(-delta_u) / np.exp(-delta_u).sum()
    g = timeseries.statistical_inefficiency(1 / 100 - weights_c)
    assert g > 2  # the premise: strongly correlated, ESS below the threshold of 50
    assert result.ess == pytest.approx(100 / g, rel=1e-9)
    assert not result.delta_f.trusted
    assert free_energy_perturbation(delta_u).delta_f.trusted  # independent: ESS ≈ 100


def test_a_refused_variant_population_makes_the_prediction_untrusted():
    # Three states, free energies asked between the two populated ones only: the third
    # holds 5 samples, too few for a population. The prediction used to count as trusted
    # because only the free energies were looked at.
    rng = np.random.default_rng(3)
    x = rng.normal(0.0, 1.0, 5_000)
    labels = (x > 0).astype(np.int64)
    labels[:5] = 2
    prediction = predict_variant(
        labels, ("a", "b", "rare"), reduced_energy(x, 1.0), x**2 / 2, states=["a", "b"]
    )
    assert prediction.free_energies_variant["a->b"].trusted
    assert not prediction.populations_variant["rare"].trusted
    assert not prediction.trusted
