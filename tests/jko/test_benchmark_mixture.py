"""The Gaussian-mixture benchmark: published protocol and per-preset iteration counts."""

import argparse

import pytest

from benchmarks import jko as benchmark_jko
from molgen.jko.config import load_config


def test_mixture_benchmark_and_config_compare_at_the_published_time():
    # Large-scale WGF §4.2: K = 40 JKO steps of h = 0.1 from N(0, 16 I).
    flow = benchmark_jko.SETTINGS["mixture"]["flow"]
    assert flow["steps"] * flow["step_size"] == pytest.approx(4.0)
    config = load_config("configs/jko/mixture.yaml")
    assert config.flow.steps * config.flow.step_size == pytest.approx(4.0)
    assert config.problem.initial_std == 4.0


def test_benchmark_uses_the_preset_iterations_unless_overridden(monkeypatch):
    tiny = {
        "flow": {"step_size": 0.1, "steps": 1, "iterations": 4, "batch_size": 64},
        "network": {"kind": "dense", "hidden": [8, 8], "rank": 1},
        "evaluation_samples": 200,
    }
    monkeypatch.setitem(benchmark_jko.SETTINGS, "mixture", tiny)
    args = argparse.Namespace(iterations=None, em_particles=[300])
    rows = benchmark_jko.benchmark("mixture", 2, 0, args)
    assert rows[0]["method"] == "JKO-ICNN (4 it/step)"
    assert rows[1]["method"].startswith("Euler-Maruyama (300 particles")
    assert all(row["time"] == pytest.approx(0.1) for row in rows)
    assert all(row["symkl"] > 0 for row in rows)
    args.iterations, args.em_particles = 2, []
    assert benchmark_jko.benchmark("mixture", 2, 0, args)[0]["method"] == "JKO-ICNN (2 it/step)"
