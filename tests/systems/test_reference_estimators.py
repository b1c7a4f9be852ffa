"""Estimators of systems.reference on synthetic data whose answers are known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, signal, stats

from systems.double_well import double_well_medium, minor_mode_fraction
from systems.reference.ladder_mbar import ladder_mbar
from systems.reference.populations import (
    free_energy_differences,
    mode_fractions,
    population_sems,
)
from systems.reference.record import TemperingRecord, load_record, save_record
from systems.reference.stats import reference_stats
from systems.reference.timeseries import (
    decorrelated_indices,
    effective_sample_count,
    equilibration_start,
    statistical_inefficiency,
)


def ar1(rho: float, n: int, rng: np.random.Generator, chains: int = 1) -> np.ndarray:
    """Stationary AR(1) chains ``(chains, n)``: x_t = ρ x_{t-1} + sqrt(1-ρ²) ε_t, unit variance.

    Its statistical inefficiency is g = (1 + ρ) / (1 − ρ) = 2 / (1 − ρ) − 1.
    """
    noise = rng.normal(size=(chains, n)) * math.sqrt(1.0 - rho**2)
    noise[:, 0] = rng.normal(size=chains)
    return signal.lfilter([1.0], [1.0, -rho], noise, axis=1)


def ar1_inefficiency(rho: float) -> float:
    return 2.0 / (1.0 - rho) - 1.0


# Relative standard deviation of the integrated-autocorrelation estimate is about
# sqrt(2 (2M + 1) / N) (Priestley; Sokal), M the summation window. pymbar sums up to the
# first zero crossing, M ~ 40 frames here, so for N = 40000 frames the spread is ~5 %
# (40 seeds measured: 7 % at N = 20000). A 20 % tolerance is about 4 standard deviations.
G_RELATIVE_TOLERANCE = 0.20


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_statistical_inefficiency_of_ar1(rho):
    series = ar1(rho, 40_000, np.random.default_rng(1))[0]
    g = statistical_inefficiency(series)
    assert g == pytest.approx(ar1_inefficiency(rho), rel=G_RELATIVE_TOLERANCE)
    assert effective_sample_count(series, g) == pytest.approx(series.size / g)


def test_statistical_inefficiency_pools_chains():
    chains = ar1(0.8, 10_000, np.random.default_rng(2), chains=4)
    g = statistical_inefficiency(chains)
    # 4 x 10000 frames: the same spread as one 40000-frame series (see above).
    assert g == pytest.approx(ar1_inefficiency(0.8), rel=G_RELATIVE_TOLERANCE)


def test_chains_that_disagree_look_correlated():
    """Two chains stuck at different means: pooled fluctuations are correlated for all time."""
    rng = np.random.default_rng(3)
    chains = rng.normal(size=(2, 2000)) + np.array([[-3.0], [3.0]])
    assert statistical_inefficiency(chains) > 100.0
    assert statistical_inefficiency(chains[0]) < 2.0


def test_constant_series_has_unit_inefficiency():
    assert statistical_inefficiency(np.ones(100)) == 1.0


def test_equilibration_start_finds_a_transient():
    rng = np.random.default_rng(4)
    stationary = ar1(0.5, 4000, rng)[0]
    transient = stationary.copy()
    transient[:500] += np.linspace(20.0, 0.0, 500)
    start = equilibration_start(transient)
    # The offset exceeds ~3 noise standard deviations over its first ~430 frames; the
    # detector scans starts in steps of 4000 / 200 = 20 frames.
    assert 300 <= start <= 600
    assert equilibration_start(stationary) < 300


def test_many_stationary_chains_keep_their_frames_and_a_shared_transient_is_cut():
    # 32 stationary chains: the latest of 32 noisy per-chain starts used to cut 600-1500
    # of 2000 frames. A transient of every chain, or of one chain alone, is still found.
    # The detector scans starts in steps of 2000 / 200 = 10 frames.
    rng = np.random.default_rng(7)
    for rho in (0.0, 0.9):
        assert equilibration_start(ar1(rho, 2000, rng, chains=32)) <= 100
    shared = ar1(0.5, 2000, rng, chains=32)
    shared[:, :300] += np.linspace(5.0, 0.0, 300)
    assert 150 <= equilibration_start(shared) <= 400
    one = ar1(0.5, 2000, rng, chains=32)
    one[3, :300] += np.linspace(20.0, 0.0, 300)
    assert 150 <= equilibration_start(one) <= 400


def test_decorrelated_indices_are_spaced_by_g():
    indices = decorrelated_indices(1000, 10.0)
    assert len(indices) == 100
    assert np.all(np.diff(indices) == 10)


def _z_scores(estimates: np.ndarray, errors: np.ndarray, truth: float) -> np.ndarray:
    return (estimates - truth) / errors


# With R replicate estimates, the sample standard deviation of unit-variance z-scores has a
# relative standard error of about 1 / sqrt(2 R) = 7 % for R = 100; [0.75, 1.3] is more
# than 3.5 of those on either side, and the error bars are meant to be right within 25 %.
Z_STD_RANGE = (0.75, 1.3)
REPLICATES = 100


def test_population_errors_cover_the_truth_for_correlated_data():
    """Two-state series from a thresholded AR(1): p = P(x > 0.5) is known exactly."""
    rng = np.random.default_rng(5)
    truth = stats.norm.sf(0.5)
    estimates, errors = [], []
    for _ in range(REPLICATES):
        labels = (ar1(0.9, 5000, rng)[0] > 0.5).astype(np.int64)
        fractions = mode_fractions(labels, 2)
        n_effective = effective_sample_count(labels.astype(float))
        estimates.append(fractions[1])
        errors.append(population_sems(fractions, n_effective)[1])
    z = _z_scores(np.array(estimates), np.array(errors), truth)
    assert Z_STD_RANGE[0] < z.std() < Z_STD_RANGE[1]
    # Mean z of 100 unit-variance draws: standard error 0.1; 0.4 is 4 of them.
    assert abs(z.mean()) < 0.4


def test_free_energy_errors_cover_the_truth():
    """Independent categorical draws: ΔF_{a→b} = −kT ln(p_b / p_a) exactly."""
    rng = np.random.default_rng(6)
    probabilities = np.array([0.7, 0.2, 0.1])
    kT = 2.5
    truth = -kT * math.log(probabilities[2] / probabilities[1])
    estimates, errors = [], []
    for _ in range(REPLICATES):
        labels = rng.choice(3, size=2000, p=probabilities)
        table = free_energy_differences(mode_fractions(labels, 3), 2000.0, kT, "abc")
        estimates.append(table["b->c"]["mean"])
        errors.append(table["b->c"]["sem"])
    z = _z_scores(np.array(estimates), np.array(errors), truth)
    assert Z_STD_RANGE[0] < z.std() < Z_STD_RANGE[1]
    assert abs(z.mean()) < 0.4


def test_free_energy_of_an_empty_mode_is_infinite():
    table = free_energy_differences(np.array([1.0, 0.0]), 100.0, 1.0, ["a", "b"])
    assert table["a->b"]["mean"] == math.inf


def _log_partition_x0(beta: float) -> float:
    well = double_well_medium()

    def density(x0: float) -> float:
        point = torch.tensor([[x0] + [0.0] * 11], dtype=torch.float64)
        return math.exp(-beta * well(point).item())

    return math.log(integrate.quad(density, -np.inf, np.inf, epsabs=0.0, epsrel=1e-11)[0])


def _exact_ladder(temperatures: np.ndarray, n_per_state: int, seed: int):
    """Independent exact samples of double_well_medium at each temperature, as (T, K, 1)."""
    generator = torch.Generator().manual_seed(seed)
    energies, labels = [], []
    for temperature in temperatures:
        well = double_well_medium(beta=1.0 / temperature)
        x = well.sample(n_per_state, generator=generator)
        energies.append(well(x).numpy())
        labels.append((x[:, 0] > 0).numpy().astype(np.int64))
    return np.stack(energies, axis=1)[:, :, None], np.stack(labels, axis=1)[:, :, None]


def test_ladder_mbar_matches_quadrature():
    temperatures = np.array([1.0, 1.6, 2.5, 4.0])
    betas = 1.0 / temperatures
    energies, labels = _exact_ladder(temperatures, 2000, seed=7)
    result = ladder_mbar(energies, labels, betas, temperatures, ("major", "minor"))
    # Z(β) = Z_x0(β) (2π/β)^{11/2} for the 11 unit Gaussians; f_k − f_0 = −ln(Z_k / Z_0).
    log_z = [_log_partition_x0(b) + 5.5 * math.log(2.0 * math.pi / b) for b in betas]
    for k, beta in enumerate(betas):
        # 4 MBAR standard errors: a false alarm in fewer than 1e-4 of checks.
        free_energy = result["free_energies"][k]
        assert free_energy["mean"] == pytest.approx(
            -(log_z[k] - log_z[0]), abs=4 * free_energy["sem"] + 1e-12
        )
        minor = result["populations"][k]["minor"]
        assert minor["mean"] == pytest.approx(minor_mode_fraction(beta), abs=4 * minor["sem"])
    difference = result["free_energy_differences"]["major->minor"]
    p = minor_mode_fraction(betas[0])
    assert difference["mean"] == pytest.approx(-math.log(p / (1 - p)), abs=4 * difference["sem"])


def test_stats_of_a_record_round_trip_through_its_file(tmp_path):
    temperatures = np.array([1.0, 2.0])
    energies, labels = _exact_ladder(temperatures, 500, seed=8)
    record = TemperingRecord(
        temperatures=temperatures,
        betas=1.0 / temperatures,
        energies=energies,
        labels=labels,
        mode_names=("major", "minor"),
        energy_unit="reduced",
        swap_acceptance=np.array([0.5]),
    )
    save_record(tmp_path / "ladder.npz", record)
    loaded = load_record(tmp_path / "ladder.npz")
    assert loaded.mode_names == record.mode_names
    assert reference_stats(loaded, "dw") == reference_stats(record, "dw")
    result = reference_stats(record, "dw")
    assert result["n_frames"] == 500
    assert set(result["populations"]) == {"major", "minor"}
    assert result["units"]["free_energy_differences"] == "reduced"
    assert result["units"]["mbar.free_energies"].startswith("reduced")
    # Independent samples: g is 1 up to the estimator's noise at 500 frames (~±20 %).
    assert result["statistical_inefficiency"] < 1.5


def test_ladder_mbar_errors_count_the_correlation_left_in_the_kept_frames():
    # AR(1) chains (ρ = 0.9) of U = x²/2 at three temperatures, population of x > 0.7 at
    # the target. With frames g apart taken as independent the z-scores of 200 seeded
    # replicates had a standard deviation of 1.23 (2-sem coverage 0.895); with the
    # residual inefficiency counted, 0.94 (0.965). 200 z-scores pin it to about 5 %.
    temperatures = np.array([1.0, 1.5, 2.3])
    rho, cut, n = 0.9, 0.7, 3000
    scores = []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        x = np.empty((n, 3))
        x[0] = rng.normal(0, np.sqrt(temperatures))
        noise = rng.normal(0, np.sqrt(temperatures * (1 - rho**2)), (n, 3))
        for t in range(1, n):
            x[t] = rho * x[t - 1] + noise[t]
        energies = (x**2 / 2)[:, :, None]
        labels = (x > cut).astype(np.int64)[:, :, None]
        result = ladder_mbar(energies, labels, 1 / temperatures, temperatures, ("left", "right"))
        entry = result["populations"][0]["right"]
        scores.append((entry["mean"] - stats.norm.sf(cut)) / entry["sem"])
        assert result["residual_inefficiency"] >= 1.0
    assert np.std(scores) < 1.1


def test_ladder_mbar_gives_an_unvisited_mode_the_error_of_one_effective_frame():
    # every sample in mode 0: mode 1's population is 0 and mode 0's 1, each known only to
    # about one effective frame; MBAR gave 0 ± NaN and 1 ± 0
    rng = np.random.default_rng(8)
    temperatures = np.array([1.0, 2.0])
    energies = rng.normal(size=(400, 2, 1)) ** 2
    labels = np.zeros((400, 2, 1), dtype=np.int64)
    result = ladder_mbar(energies, labels, 1 / temperatures, temperatures, ("a", "b"))
    target = result["populations"][0]
    n = result["n_samples"][0]
    floor = math.sqrt((1 / n) * (1 - 1 / n) / n)
    assert target["b"]["mean"] == 0.0 and target["b"]["sem"] == pytest.approx(floor)
    assert target["a"]["mean"] == pytest.approx(1.0) and target["a"]["sem"] == pytest.approx(floor)
