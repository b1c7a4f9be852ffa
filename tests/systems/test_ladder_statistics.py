"""Error bars from independent ladders: right for uncorrelated and for frozen series."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from systems.reference.ladder_statistics import half_differences, independent_ladder_stats

NAMES = ("a", "b", "c")
P = np.array([0.7, 0.2, 0.1])


def _stats(labels: np.ndarray) -> dict:
    energies = np.random.default_rng(1).normal(size=labels.shape)
    return independent_ladder_stats(energies, labels, NAMES, "toy", 300.0, 0.4)


def test_uncorrelated_frames_give_binomial_errors():
    """200 ladders x 500 independent draws: the ladder spread reproduces the binomial error
    sqrt(p(1-p)/n) (its own relative uncertainty is 1/sqrt(2 x 199) = 5 %; 20 % allowed)."""
    labels = np.random.default_rng(0).choice(3, size=(500, 200), p=P)
    stats = _stats(labels)
    n = labels.size
    for name, p in zip(NAMES, P, strict=True):
        entry = stats["populations"][name]
        expected = np.sqrt(p * (1 - p) / n)
        assert entry["sem"] == pytest.approx(expected, rel=0.2)
        assert stats["binomial_sem"][name] == pytest.approx(expected, rel=0.2)
        assert abs(entry["mean"] - p) < 4 * expected
    assert stats["statistical_inefficiency"] == pytest.approx(1.0, abs=0.2)
    # ΔF = -kT ln(p_b/p_a); for multinomial draws its error is kT sqrt((1/p_a + 1/p_b)/n).
    kT = 1 / 0.4
    difference = stats["free_energy_differences"]["a->b"]
    assert difference["sem"] == pytest.approx(kT * np.sqrt((1 / 0.7 + 1 / 0.2) / n), rel=0.2)


def test_a_single_ladder_gets_the_binomial_errors_of_its_effective_frames():
    # one ladder has no spread to measure: every error bar used to be null
    labels = np.random.default_rng(2).choice(3, size=(20_000, 1), p=P)
    stats = _stats(labels)
    n = labels.size
    for name, p in zip(NAMES, P, strict=True):
        # independent draws: g within a few per cent of 1, and the binomial error
        assert stats["populations"][name]["sem"] == pytest.approx(np.sqrt(p * (1 - p) / n), rel=0.1)
    kT = 1 / 0.4
    difference = stats["free_energy_differences"]["a->b"]
    assert difference["sem"] == pytest.approx(kT * np.sqrt((1 / 0.7 + 1 / 0.2) / n), rel=0.1)
    # unit-variance normal energies
    assert stats["energy"]["sem"] == pytest.approx(1 / np.sqrt(n), rel=0.1)


def test_frozen_ladders_give_the_error_of_their_number():
    """Each ladder stays in one mode: 10,000 frames carry only as much as 100 ladders."""
    rng = np.random.default_rng(2)
    labels = np.repeat(rng.choice(3, size=(1, 100), p=P), 100, axis=0)
    stats = _stats(labels)
    for name, p in zip(NAMES, P, strict=True):
        assert stats["populations"][name]["sem"] == pytest.approx(
            np.sqrt(p * (1 - p) / 100), rel=0.3
        )
        assert stats["drift"][name] == {"mean": 0.0, "sem": 0.0}


def test_drift_between_halves_is_reported():
    rng = np.random.default_rng(3)
    first = rng.choice(3, size=(300, 64), p=P)
    second = rng.choice(3, size=(300, 64), p=[0.6, 0.2, 0.2])
    drift = half_differences(np.concatenate([first, second]), NAMES)
    assert drift["c"]["mean"] == pytest.approx(0.1, abs=4 * drift["c"]["sem"])
    assert drift["c"]["mean"] > 5 * drift["c"]["sem"]


def test_start_groups_that_disagree_are_reported():
    """Odd ladders drawn with 10 pp more of mode c: the difference is found, within 4 SE."""
    rng = np.random.default_rng(4)
    labels = rng.choice(3, size=(400, 128), p=P)
    labels[:, 1::2] = rng.choice(3, size=(400, 64), p=[0.6, 0.2, 0.2])
    stats = independent_ladder_stats(
        rng.normal(size=labels.shape), labels, NAMES, "toy", 300.0, 0.4, np.arange(128) % 2
    )
    shift = stats["starts"]["differences"]["start 1 - start 0"]["c"]
    assert shift["mean"] == pytest.approx(0.1, abs=4 * shift["sem"])
    assert shift["mean"] > 5 * shift["sem"]
    groups = stats["starts"]["populations"]
    assert groups["start 0"]["a"]["mean"] == pytest.approx(0.7, abs=0.01)
    assert groups["start 1"]["a"]["mean"] == pytest.approx(0.6, abs=0.01)


def test_start_groups_from_one_distribution_agree():
    labels = np.random.default_rng(5).choice(3, size=(400, 128), p=P)
    stats = independent_ladder_stats(
        np.zeros(labels.shape), labels, NAMES, "toy", 300.0, 0.4, np.arange(128) % 2
    )
    for shift in stats["starts"]["differences"]["start 1 - start 0"].values():
        assert abs(shift["mean"]) < 4 * shift["sem"]


def test_one_start_adds_no_start_check():
    labels = np.random.default_rng(6).choice(3, size=(50, 8), p=P)
    stats = independent_ladder_stats(
        np.zeros(labels.shape), labels, NAMES, "toy", 300.0, 0.4, np.zeros(8, dtype=int)
    )
    assert "starts" not in stats


def test_half_differences_of_a_single_frame_are_undefined_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drift = half_differences(np.zeros((1, 4), dtype=int), NAMES)
    assert set(drift) == set(NAMES)
    assert all(np.isnan(value["mean"]) and np.isnan(value["sem"]) for value in drift.values())
