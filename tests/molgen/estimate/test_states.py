"""State populations and free energies from labels with known populations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pymbar import timeseries

from forcefields.errors import ConfigError, UnknownNameError
from molgen.estimate import (
    MIN_STATE_ESS,
    EssThreshold,
    effective_sample_size,
    group_states,
    state_free_energies,
    state_populations,
)
from systems.reference.populations import free_energy_differences
from tests.molgen.estimate.gaussians import autoregressive

NAMES = ("gauche+", "trans", "gauche-")
POPULATIONS = np.array([0.2, 0.65, 0.15])


def _labels(seed: int, n: int) -> np.ndarray:
    return np.random.default_rng(seed).choice(len(NAMES), size=n, p=POPULATIONS)


def test_populations_recover_the_known_fractions():
    table = state_populations(_labels(0, 20_000), NAMES)
    for name, expected in zip(NAMES, POPULATIONS, strict=True):
        # 4 standard errors: false-failure probability 6e-5 per state.
        assert abs(table[name].value - expected) < 4 * table[name].stderr
        # Binomial error of a fraction from independent labels.
        assert table[name].stderr == pytest.approx(
            math.sqrt(table[name].value * (1 - table[name].value) / 20_000), rel=1e-9
        )


def test_free_energies_match_the_reference_formula_and_the_truth():
    labels = _labels(1, 5_000)
    kT = 2.494
    ours = state_free_energies(labels, NAMES, kT=kT)
    fractions = np.bincount(labels, minlength=3) / labels.size
    theirs = free_energy_differences(fractions, labels.size, kT, NAMES)
    assert set(ours) == set(theirs) == {"gauche+->trans", "gauche+->gauche-", "trans->gauche-"}
    for name, estimate in ours.items():
        # Equal independent weights: the delta method reduces to the reference's
        # kT sqrt((1/p_a + 1/p_b)/n); both are closed forms of the same sample.
        assert estimate.value == pytest.approx(theirs[name]["mean"], rel=1e-10)
        assert estimate.stderr == pytest.approx(theirs[name]["sem"], rel=1e-10)
        a, b = (NAMES.index(state) for state in name.split("->"))
        exact = -kT * math.log(POPULATIONS[b] / POPULATIONS[a])
        assert abs(estimate.value - exact) < 4 * estimate.stderr


def test_weighted_labels_reweight_populations():
    labels = np.repeat([0, 1], [300, 700])
    # Weights 7/3 on state 0 and 1 on state 1 make the two states equally likely.
    log_w = np.where(labels == 0, math.log(7 / 3), 0.0)
    table = state_populations(labels, ("a", "b"), log_w)
    assert table["a"].value == pytest.approx(0.5)
    assert state_free_energies(labels, ("a", "b"), log_w=log_w)["a->b"].value == pytest.approx(
        0.0, abs=1e-12
    )


def test_merged_gauche_states():
    labels = _labels(2, 10_000)
    merged, names = group_states(labels, NAMES, {"gauche": ["gauche+", "gauche-"]})
    assert names == ("gauche", "trans")
    np.testing.assert_array_equal(merged == 0, (labels == 0) | (labels == 2))
    estimate = state_free_energies(merged, names, states=["trans", "gauche"])["trans->gauche"]
    exact = -math.log((POPULATIONS[0] + POPULATIONS[2]) / POPULATIONS[1])
    assert abs(estimate.value - exact) < 4 * estimate.stderr


def test_empty_state_and_bad_input():
    labels = np.zeros(100, dtype=np.int64)
    estimate = state_free_energies(labels, ("a", "b"))["a->b"]
    assert not estimate.trusted and "no sample weight in state 'b'" in estimate.reason
    with pytest.raises(UnknownNameError, match="state 'c'"):
        state_free_energies(labels, ("a", "b"), states=["a", "c"])
    with pytest.raises(ConfigError, match="outside"):
        state_populations(np.array([0, 2]), ("a", "b"))
    with pytest.raises(ConfigError, match="integer"):
        state_populations(np.array([0.0, 1.0]), ("a", "b"))


def test_a_state_holding_one_sample_gets_no_population_or_free_energy():
    labels = np.zeros(10_000, dtype=np.int64)
    labels[1234] = 1
    # The whole sample is fine (ESS 10,000); only state b lacks support.
    populations = state_populations(labels, ("a", "b"))
    assert populations["a"].trusted
    assert not populations["b"].trusted and math.isnan(populations["b"].value)
    assert "too few samples in state 'b'" in populations["b"].reason
    delta_f = state_free_energies(labels, ("a", "b"))["a->b"]
    assert not delta_f.trusted and "state 'b'" in delta_f.reason
    # The documented minimum, not more: MIN_STATE_ESS equal-weight samples are enough.
    labels[: int(MIN_STATE_ESS)] = 1
    assert state_free_energies(labels, ("a", "b"))["a->b"].trusted


def test_one_heavy_sample_is_not_the_support_of_a_state():
    """Per-state ESS uses the weights: 200 samples in b, one carrying almost all its weight."""
    labels = np.repeat([0, 1], [800, 200])
    log_w = np.zeros(1_000)
    # e^8 ≈ 2981, 15 times the other 199 weights of b together: b's Kish ESS is about 1.1.
    log_w[800] = 8.0
    populations = state_populations(labels, ("a", "b"), log_w, threshold=EssThreshold(1, 0))
    assert not populations["b"].trusted and "state 'b'" in populations["b"].reason
    assert populations["a"].trusted


def test_correlated_equal_weight_frames_count_as_n_over_g():
    # The sign of an AR(1) series with ρ = 0.96 (g = (1 + ρ)/(1 − ρ) = 49 for the series);
    # seed 0 gives 27 frames in state 0 and 73 in state 1.
    x = autoregressive(np.random.default_rng(0), 100, 1.0, 0.96)
    labels = (x > 0).astype(np.int64)
    indicator = labels.astype(np.float64)
    g = timeseries.statistical_inefficiency(indicator)
    # pymbar's estimate from 100 frames is biased low but still shows strong correlation,
    # so n/g is far below the default threshold of 50 effective samples.
    assert g > 10 and 100 / g < 50
    ess = effective_sample_size(np.zeros(100), correlated=True, series=indicator)
    assert ess == pytest.approx(100 / g, rel=1e-9)
    independent = state_populations(labels, ("down", "up"))
    assert all(estimate.trusted for estimate in independent.values())
    correlated = state_populations(labels, ("down", "up"), correlated=True)
    for estimate in correlated.values():
        assert (
            not estimate.trusted and f"ESS of the weights {100 / g:.1f} of 100" in estimate.reason
        )
    delta_f = state_free_energies(labels, ("down", "up"), correlated=True)["down->up"]
    assert not delta_f.trusted


def test_grouping_refuses_labels_outside_the_states():
    # a label of -1 used to land silently in the last state, one of 2 to be an IndexError
    for bad in (-1, 3):
        with pytest.raises(ConfigError, match=r"outside \[0, 3\)"):
            group_states(np.array([0, 1, bad]), ("a", "b", "c"), {"ab": ["a", "b"]})


def test_a_misspelt_state_is_named_before_the_overlap_is_judged():
    # 20 samples are too few for a trusted estimate; the typo used to be reported as that
    from molgen.estimate.states import state_free_energy

    labels = np.arange(20) % 2
    with pytest.raises(UnknownNameError, match="state 'typo'"):
        state_free_energy(labels, ("a", "b"), "a", "typo")
