"""BAR between two sample sets with FEP cross-checks, against the analytic ΔF of two
Gaussians (harmonic oscillators ``U = x²/(2σ²)``, ``ΔF = −ln(σ_C/σ_B)`` in kT)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forcefields.errors import TooFewSamplesError
from molgen.estimate import MIN_BAR_SAMPLES, systematic_resample, two_set_free_energy
from molgen.estimate.bennett import bar_free_energy
from molgen.estimate.ess import EssThreshold
from molgen.estimate.free_energy_report import _bar_lines
from tests.molgen.estimate.gaussians import autoregressive, importance_samples, reduced_energy

SIGMA_B, SIGMA_C = 1.0, 1.2
EXACT = -math.log(SIGMA_C / SIGMA_B)


def _work(x: np.ndarray, sigma_from: float, sigma_to: float) -> np.ndarray:
    """``β(U_to − U_from)`` of samples ``x``."""
    return reduced_energy(x, sigma_to) - reduced_energy(x, sigma_from)


def _assert_recovers_exact(result) -> None:
    for name, estimate in result.estimates().items():
        assert estimate.trusted, name
        # 3 standard errors: false-failure probability 0.3 % per estimate.
        assert abs(estimate.value - EXACT) < 3 * estimate.stderr, name


def test_bar_and_both_feps_recover_the_analytic_free_energy():
    rng = np.random.default_rng(20)
    x_b, x_c = rng.normal(0, SIGMA_B, 5_000), rng.normal(0, SIGMA_C, 5_000)
    result = two_set_free_energy(_work(x_b, SIGMA_B, SIGMA_C), _work(x_c, SIGMA_C, SIGMA_B))
    _assert_recovers_exact(result)
    # BAR uses both sets: its error bar is below either one-sided estimate's.
    assert result.bar.delta_f.stderr < min(
        result.fep_forward.delta_f.stderr, result.fep_reverse.delta_f.stderr
    )
    assert result.consistent is True and result.bar.overlap > 0.9
    for usage in (result.set_b, result.set_c):
        assert (usage.n, usage.n_used, usage.inefficiency, usage.weighted) == (
            5_000,
            5_000,
            1,
            False,
        )
    payload = result.as_dict()
    assert set(payload) >= {"delta_f", "overlap", "fep_forward", "fep_reverse", "consistent"}
    assert payload["fep_reverse"]["delta_f"]["value_kT"] == pytest.approx(
        -result.fep_reverse.delta_f.value
    )


def test_weighted_generator_samples_are_resampled_to_their_ess():
    rng = np.random.default_rng(21)
    x_b, log_w_b = importance_samples(rng, 5_000, SIGMA_B, 0.2, 1.5)
    x_c = rng.normal(0, SIGMA_C, 5_000)
    result = two_set_free_energy(
        _work(x_b, SIGMA_B, SIGMA_C), _work(x_c, SIGMA_C, SIGMA_B), log_w_b=log_w_b
    )
    _assert_recovers_exact(result)
    assert result.set_b.weighted and not result.set_c.weighted
    assert result.set_b.n_used == math.floor(result.set_b.ess) < 5_000
    # Same seed, same draws.
    again = two_set_free_energy(
        _work(x_b, SIGMA_B, SIGMA_C), _work(x_c, SIGMA_C, SIGMA_B), log_w_b=log_w_b
    )
    assert again.bar.delta_f.value == result.bar.delta_f.value


def test_correlated_series_are_subsampled_by_their_statistical_inefficiency():
    rng = np.random.default_rng(22)
    rho = 0.9
    x_b = autoregressive(rng, 20_000, SIGMA_B, rho)
    x_c = autoregressive(rng, 20_000, SIGMA_C, rho)
    result = two_set_free_energy(
        _work(x_b, SIGMA_B, SIGMA_C), _work(x_c, SIGMA_C, SIGMA_B), correlated=True
    )
    _assert_recovers_exact(result)
    # The work ∝ x² of an AR(1) series has lag-k correlation ρ^2k: g = (1 + ρ²)/(1 − ρ²).
    g = (1 + rho**2) / (1 - rho**2)
    for usage in (result.set_b, result.set_c):
        assert 0.7 * g < usage.inefficiency < 1.3 * g
        assert (
            usage.n_used
            == usage.n_decorrelated
            == pytest.approx(20_000 / usage.inefficiency, rel=0.05)
        )
        # frames g apart of the work keep a lag-one correlation of about ρ^(2g) ≈ 0.13:
        # g' = (1 + 0.13) / (1 − 0.13) ≈ 1.3
        assert 1.1 < usage.residual_inefficiency < 1.6
    lines = _bar_lines({**result.as_dict(), "samples_c": "c.npz"}, 1.0, "kT")
    assert any("left after it" in line for line in lines)


def test_swapping_the_sets_flips_the_sign():
    rng = np.random.default_rng(23)
    forward = _work(rng.normal(0, SIGMA_B, 2_000), SIGMA_B, SIGMA_C)
    reverse = _work(rng.normal(0, SIGMA_C, 2_000), SIGMA_C, SIGMA_B)
    result, swapped = two_set_free_energy(forward, reverse), two_set_free_energy(reverse, forward)
    assert swapped.bar.delta_f.value == pytest.approx(-result.bar.delta_f.value, abs=1e-10)
    assert swapped.bar.delta_f.stderr == pytest.approx(result.bar.delta_f.stderr, rel=1e-8)
    assert swapped.fep_forward.delta_f.value == pytest.approx(-result.reverse_delta_f.value)


def test_samples_of_the_wrong_distribution_are_flagged():
    rng = np.random.default_rng(24)
    x_b = rng.normal(0, SIGMA_B, 5_000)
    # "Samples of C" that are really drawn with σ = 1.6: the reverse FEP and BAR shift,
    # the forward FEP (from correct samples of B) does not.
    x_wrong = rng.normal(0, 1.6, 5_000)
    result = two_set_free_energy(_work(x_b, SIGMA_B, SIGMA_C), _work(x_wrong, SIGMA_C, SIGMA_B))
    assert result.consistent is False
    assert not result.comparisons()["fep_forward-fep_reverse"]["within_2_sem"]


def test_too_few_samples_are_refused_with_a_typed_error():
    rng = np.random.default_rng(25)
    few = _work(rng.normal(0, SIGMA_C, MIN_BAR_SAMPLES - 1), SIGMA_C, SIGMA_B)
    plenty = _work(rng.normal(0, SIGMA_B, 500), SIGMA_B, SIGMA_C)
    with pytest.raises(TooFewSamplesError, match="C: 9 samples, BAR needs at least 10"):
        two_set_free_energy(plenty, few, labels=("B", "C"))
    # 400 frames of a slow series: a statistical inefficiency of ~200 leaves ~2.
    slow = autoregressive(rng, 400, SIGMA_B, 0.99)
    with pytest.raises(TooFewSamplesError, match="statistical inefficiency"):
        two_set_free_energy(_work(slow, SIGMA_B, SIGMA_C), plenty, correlated=True)
    # Weights dominated by a few samples: Kish ESS below 10.
    log_w = np.full(500, -50.0)
    log_w[:3] = 0.0
    with pytest.raises(TooFewSamplesError, match="Kish ESS"):
        two_set_free_energy(plenty, plenty, log_w_c=log_w)


def test_systematic_resampling_draws_each_sample_floor_or_ceil_of_m_times_its_weight():
    rng = np.random.default_rng(26)
    weights = np.array([0.5, 0.0, 0.25, 0.125, 0.125])
    with np.errstate(divide="ignore"):
        log_w = np.log(weights)
    for _ in range(20):
        counts = np.bincount(systematic_resample(log_w, 10, rng), minlength=5)
        assert counts.sum() == 10 and counts[1] == 0
        assert np.all(np.abs(counts - 10 * weights) < 1)


def test_exact_estimates_equal_up_to_rounding_agree():
    # Constant works (a pure energy offset of 1/3 kT): every estimate is exact, standard
    # errors are 0, and BAR and FEP differ by 4e-16 kT of rounding. They used to be
    # flagged as disagreeing, with an infinite z that the report could not format.

    result = two_set_free_energy(
        np.full(100, 1 / 3), np.full(100, -1 / 3), threshold=EssThreshold(1, 0)
    )
    comparisons = result.comparisons()
    assert all(entry["within_2_sem"] and entry["z"] == 0.0 for entry in comparisons.values())
    block = {**result.as_dict(), "samples_c": "c.npz"}
    assert not any("WARNING" in line for line in _bar_lines(block, 1.0, "kT"))


def test_exact_estimates_that_differ_are_reported_without_a_z():
    result = two_set_free_energy(
        np.full(100, 1 / 3), np.full(100, -1 / 3), threshold=EssThreshold(1, 0)
    )
    block = {**result.as_dict(), "samples_c": "c.npz"}
    block["comparisons"] = {
        "bar-fep_forward": {
            "difference": 0.5,
            "combined_sem": 0.0,
            "z": None,
            "within_2_sem": False,
        }
    }
    (warning,) = [line for line in _bar_lines(block, 1.0, "kT") if "WARNING" in line]
    assert "difference +0.5 kT with standard errors of 0" in warning


def _bar_z_scores(replicates: int, draw) -> np.ndarray:
    """``(BAR − exact) / stderr`` over seeded replicates; ``draw(rng)`` gives the keyword
    arguments of :func:`two_set_free_energy`."""
    scores = []
    for seed in range(replicates):
        result = two_set_free_energy(**draw(np.random.default_rng(seed)), seed=seed)
        scores.append((result.bar.delta_f.value - EXACT) / result.bar.delta_f.stderr)
    return np.array(scores)


def test_the_error_of_bar_on_cut_time_series_counts_the_correlation_left():
    # Frames g apart of an AR(1) chain are still correlated (about e^-2 for the work):
    # pymbar's error alone gave z-scores of standard deviation 1.34 over these 100 seeded
    # replicates (2-sem coverage 0.86); counted, 1.12 (0.93). A spread of 100 z-scores is
    # known to about 7 %, so 1.2 separates the two.
    def draw(rng):
        x_b = autoregressive(rng, 4_000, SIGMA_B, 0.9)
        x_c = autoregressive(rng, 4_000, SIGMA_C, 0.9)
        return {
            "forward": _work(x_b, SIGMA_B, SIGMA_C),
            "reverse": _work(x_c, SIGMA_C, SIGMA_B),
            "correlated": True,
        }

    assert np.std(_bar_z_scores(100, draw)) < 1.2


def test_the_error_of_bar_on_weighted_samples_is_at_least_pymbars_and_seeded():
    rng = np.random.default_rng(24)
    x_b, log_w_b = importance_samples(rng, 1_000, SIGMA_B, 0.0, 0.8)
    x_c = rng.normal(0, SIGMA_C, 1_000)
    works = {"forward": _work(x_b, SIGMA_B, SIGMA_C), "reverse": _work(x_c, SIGMA_C, SIGMA_B)}
    result = two_set_free_energy(**works, log_w_b=log_w_b, seed=5)
    draws = systematic_resample(log_w_b, result.set_b.n_used, np.random.default_rng(5))
    alone = bar_free_energy(works["forward"][draws], works["reverse"])
    assert result.bar.delta_f.value == alone.delta_f.value
    assert result.bar.delta_f.stderr > alone.delta_f.stderr
    again = two_set_free_energy(**works, log_w_b=log_w_b, seed=5)
    assert again.bar.delta_f.stderr == result.bar.delta_f.stderr


@pytest.mark.slow
def test_the_error_of_bar_on_weighted_samples_covers_its_spread():
    # Proposal N(0, 0.8²) for B (Kish ESS about 860 of 1000): pymbar's error on the
    # resample gave z-scores of standard deviation 1.31 over these 200 seeded replicates
    # (2-sem coverage 0.84); the bootstrap's, 1.08 (0.925). 200 z-scores pin the spread to
    # about 5 %.
    def draw(rng):
        x_b, log_w_b = importance_samples(rng, 1_000, SIGMA_B, 0.0, 0.8)
        x_c = rng.normal(0, SIGMA_C, 1_000)
        return {
            "forward": _work(x_b, SIGMA_B, SIGMA_C),
            "reverse": _work(x_c, SIGMA_C, SIGMA_B),
            "log_w_b": log_w_b,
        }

    assert np.std(_bar_z_scores(200, draw)) < 1.15


def test_only_the_set_that_is_a_time_series_is_cut():
    # independent samples of B beside a correlated series of C (a reference folder given
    # to --bar): cutting B by a statistical inefficiency estimated from noise would drop
    # independent samples for nothing
    rng = np.random.default_rng(25)
    x_b = rng.normal(0, SIGMA_B, 4_000)
    x_c = autoregressive(rng, 4_000, SIGMA_C, 0.9)
    result = two_set_free_energy(
        _work(x_b, SIGMA_B, SIGMA_C), _work(x_c, SIGMA_C, SIGMA_B), correlated=(False, True)
    )
    _assert_recovers_exact(result)
    assert result.set_b.inefficiency == 1.0 and result.set_b.n_used == 4_000
    assert result.set_c.inefficiency > 5 and result.set_c.n_used < 1_000
