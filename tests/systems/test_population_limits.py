"""Populations and free energies where the frames say little: an empty mode's standard
error is that of one effective frame, not 0, and free-energy differences from fewer than
MIN_EFFECTIVE_FRAMES effective frames are withheld (as ``molgen free-energy`` refuses them)."""

from __future__ import annotations

import numpy as np
import pytest

from molgen.estimate.ess import DEFAULT_THRESHOLD
from systems.reference.ladder_statistics import independent_ladder_stats
from systems.reference.populations import (
    MIN_EFFECTIVE_FRAMES,
    free_energy_differences,
    population_sems,
    required_effective_frames,
    withheld_below_min_frames,
)

NAMES = ("a", "b", "c")


def test_an_empty_mode_has_the_error_of_one_effective_frame():
    sems = population_sems(np.array([0.0, 0.3, 0.7]), n_effective=100.0)
    # q = 1/100: sqrt(q (1 - q) / 100) = 0.00995; it used to be exactly 0
    assert sems[0] == pytest.approx(np.sqrt(0.01 * 0.99 / 100))
    np.testing.assert_allclose(sems[1:], np.sqrt(np.array([0.21, 0.21]) / 100))


def test_a_mode_holding_every_frame_is_not_exact_either():
    sems = population_sems(np.array([1.0, 0.0]), n_effective=400.0)
    assert (sems > 0).all()


def test_free_energies_from_too_few_effective_frames_are_withheld():
    table = free_energy_differences(np.array([0.5, 0.3, 0.2]), 1000.0, 1.0, NAMES)
    assert table["a->b"]["mean"] == pytest.approx(-np.log(0.3 / 0.5))
    few = withheld_below_min_frames(table, MIN_EFFECTIVE_FRAMES - 1, n_frames=100)
    assert all(entry == {"mean": None, "sem": None} for entry in few.values())
    assert withheld_below_min_frames(table, MIN_EFFECTIVE_FRAMES, n_frames=100) == table
    # as molgen free-energy: 1 % of 12,000 frames, 120 effective frames, are needed
    assert withheld_below_min_frames(table, 100.0, n_frames=12_000)["a->b"]["mean"] is None
    assert required_effective_frames(12_000) == DEFAULT_THRESHOLD.required(12_000)


def test_no_effective_frames_give_undefined_errors_not_a_crash():
    assert np.isnan(population_sems(np.array([0.5, 0.5]), n_effective=0.0)).all()


def test_ladders_that_never_visit_a_mode_give_it_a_nonzero_error():
    labels = np.random.default_rng(0).choice(2, size=(400, 16))
    energies = np.zeros(labels.shape)
    stats = independent_ladder_stats(energies, labels, NAMES, "toy", 300.0, 0.4)
    # the spread over ladders of an empty mode is 0; one effective frame's error is not
    assert stats["populations"]["c"]["mean"] == 0.0
    assert stats["populations"]["c"]["sem"] > 0.0


def test_ladders_with_few_effective_frames_withhold_free_energies():
    # each ladder frozen in one mode: 8 ladders carry about 8 effective frames
    labels = np.repeat(np.array([[0, 1, 0, 1, 2, 0, 1, 2]]), 50, axis=0)
    stats = independent_ladder_stats(np.zeros(labels.shape), labels, NAMES, "toy", 300.0, 0.4)
    assert stats["n_effective"] < MIN_EFFECTIVE_FRAMES
    assert stats["free_energy_differences"]["a->b"] == {"mean": None, "sem": None}


def test_ladder_statistics_name_their_units():
    # stats.json gave free energies in its energy_unit while evaluate reports kT; the units
    # entry says which unit each energy-valued key is in
    labels = np.random.default_rng(0).choice(3, size=(100, 8))
    stats = independent_ladder_stats(np.zeros(labels.shape), labels, NAMES, "toy", 300.0, 0.4)
    assert stats["units"]["free_energy_differences"] == stats["energy_unit"] == "kJ/mol"
    assert "mbar.free_energies" not in stats["units"]
