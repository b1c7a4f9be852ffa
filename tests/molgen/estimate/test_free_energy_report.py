"""The ``molgen free-energy`` report: one correlation-aware ESS for populations and log Z."""

from __future__ import annotations

import numpy as np
import pytest
from pymbar import timeseries

from molgen.estimate.free_energy_report import free_energy_report
from molgen.estimate.partition import EQUAL_WEIGHTS
from tests.molgen.estimate.conftest import write_sidecar
from tests.molgen.estimate.gaussians import autoregressive


@pytest.fixture
def correlated_frames(tmp_path):
    """100 nearly equal-weight frames of ``double_well_2d`` (log weights of spread 0.01, so
    that log Z means something) whose state labels (the sign of an AR(1) series,
    ρ = 0.96) stay put for tens of frames: 27 in one state, 73 in the other."""
    rng = np.random.default_rng(0)
    x = np.stack([autoregressive(rng, 100, 1.0, 0.96), rng.normal(size=100)], axis=1)
    return write_sidecar(
        tmp_path / "frames.npz",
        x=x,
        log_w=rng.normal(scale=0.01, size=100),
        modes=(x[:, 0] > 0).astype(np.int64),
        system=np.array("double_well_2d"),
    )


def test_log_z_and_populations_are_refused_together_for_correlated_frames(correlated_frames):
    labels = np.load(correlated_frames)["modes"].astype(np.float64)
    g = timeseries.statistical_inefficiency(labels)
    assert 100 / g < 50  # the premise: fewer effective frames than the default 50

    independent = free_energy_report(correlated_frames)
    # log weights of spread 0.01 lower the Kish ESS by a relative 1e-4
    assert independent["log_z"]["trusted"] and independent["ess"] == pytest.approx(100, rel=1e-3)
    assert all(entry["trusted"] for entry in independent["populations"].values())

    report = free_energy_report(correlated_frames, correlated=True)
    assert report["ess"] == pytest.approx(independent["ess"] / g, rel=1e-9)
    assert report["log_z"]["ess"] == pytest.approx(report["ess"], rel=1e-12)
    assert not report["log_z"]["trusted"] and not report["trusted"]
    assert not any(entry["trusted"] for entry in report["populations"].values())
    assert report["log_z"]["reason"] == report["populations"]["major"]["reason"]


def _equally_weighted_frames(folder, seed: int):
    """200 frames of ``double_well_2d`` with ``log w = 0``, as MD frames of the target."""
    return write_sidecar(
        folder / "frames.npz",
        x=np.random.default_rng(seed).normal(size=(200, 2)),
        log_w=np.zeros(200),
        modes=np.zeros(200, dtype=np.int64),
        system=np.array("double_well_2d"),
    )


def test_log_z_of_equally_weighted_frames_is_withheld(tmp_path):
    # Frames of p_B itself all have log w = 0: logmeanexp gives 0 ± 0 whatever Z_B is.
    report = free_energy_report(_equally_weighted_frames(tmp_path, 1))
    assert not report["log_z"]["trusted"] and report["log_z"]["reason"] == EQUAL_WEIGHTS


def test_a_toys_report_records_the_temperature_factor_it_was_analysed_at(tmp_path):
    frames = _equally_weighted_frames(tmp_path, 2)
    assert free_energy_report(frames, temperature=2.0)["temperature"] == 2.0


def test_correlated_frames_without_states_count_the_correlation_of_their_energy(tmp_path):
    # no system and no labels: only the energy tells how slowly the frames decorrelate
    u_b = autoregressive(np.random.default_rng(1), 400, 1.0, 0.95)
    frames = write_sidecar(tmp_path / "md.npz", log_w=np.zeros(400), u_b=u_b)
    g = timeseries.statistical_inefficiency(u_b)
    assert g > 10  # the premise: strongly correlated
    report = free_energy_report(frames, correlated=True)
    assert report["ess"] == pytest.approx(400 / g, rel=1e-9)
    assert free_energy_report(frames)["ess"] == pytest.approx(400)
