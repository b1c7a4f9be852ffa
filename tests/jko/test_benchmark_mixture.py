"""The Gaussian-mixture benchmark: published protocol and per-preset iteration counts."""

import argparse
from pathlib import Path

import pytest
import torch

from benchmarks import jko as benchmark_jko
from molgen.jko.config import load_config

ROOT = Path(__file__).resolve().parents[2]


def _benchmark_args(**overrides) -> argparse.Namespace:
    """The benchmark's options without command-line overrides, 300 EM particles."""
    defaults = {
        "iterations": None,
        "cloud_size": None,
        "hidden": None,
        "em_particles": [300],
        "skip_jko": None,
        "late_learning_rate": None,
        "late_from_step": 21,
        "no_anneal": False,
        "device": "cpu",
        "mixture_key": "",
    }
    return argparse.Namespace(**{**defaults, **overrides})


def test_mixture_benchmark_and_config_compare_at_the_published_time():
    # Large-scale WGF §4.2: K = 40 JKO steps of h = 0.1 from N(0, 16 I).
    flow = benchmark_jko.SETTINGS["mixture"]["flow"]
    assert flow["steps"] * flow["step_size"] == pytest.approx(4.0)
    config = load_config(ROOT / "configs/jko/mixture.yaml")
    assert config.flow.steps * config.flow.step_size == pytest.approx(4.0)
    assert config.problem.initial_std == 4.0
    # The benchmark fits its maps on the same cloud as the ready config.
    assert flow["cloud_size"] == config.flow.cloud_size


def test_benchmark_uses_the_preset_iterations_unless_overridden(monkeypatch):
    tiny = {
        "flow": {"step_size": 0.1, "steps": 1, "iterations": 4, "batch_size": 64},
        "network": {"kind": "dense", "hidden": [8, 8], "rank": 1},
        "evaluation_samples": 200,
    }
    monkeypatch.setitem(benchmark_jko.SETTINGS, "mixture", tiny)
    args = _benchmark_args()
    rows = benchmark_jko.benchmark("mixture", 2, 0, args)
    assert rows[0]["method"] == "JKO-ICNN (4 it/step, 8192 particles, width 8x8)"
    assert rows[1]["method"].startswith("Euler-Maruyama (300 particles")
    assert all(row["time"] == pytest.approx(0.1) for row in rows)
    assert all(row["symkl"] > 0 for row in rows)
    args.iterations, args.cloud_size, args.hidden, args.em_particles = 2, 512, [6], []
    label = benchmark_jko.benchmark("mixture", 2, 0, args)[0]["method"]
    assert label == "JKO-ICNN (2 it/step, 512 particles, width 6)"
    args.late_learning_rate, args.late_from_step, args.no_anneal = 2e-3, 1, True
    label = benchmark_jko.benchmark("mixture", 2, 0, args)[0]["method"]
    assert label == (
        "JKO-ICNN (2 it/step, 512 particles, width 6, lr 0.005 then 0.002 from step 1, "
        "constant within steps)"
    )


def test_skip_jko_runs_only_euler_maruyama_against_the_given_budget(monkeypatch):
    tiny = {"flow": {"step_size": 0.1, "steps": 1}, "evaluation_samples": 200}
    monkeypatch.setitem(benchmark_jko.SETTINGS, "mixture", tiny)
    args = _benchmark_args(skip_jko=0.0)
    (row,) = benchmark_jko.benchmark("mixture", 2, 0, args)
    assert row["method"].startswith("Euler-Maruyama (300 particles")
    assert row["symkl"] > 0
    assert row["within_budget"] is False  # no simulation takes zero seconds
    args.skip_jko = 1e9
    assert benchmark_jko.benchmark("mixture", 2, 0, args)[0]["within_budget"] is True


def _ou_rows(distances: list[float]) -> list[dict]:
    return [
        {"dim": 4, "evaluation_samples": 10_000, "symkl_to_discrete_jko": value}
        for value in distances
    ]


def test_discrete_jko_agreement_measures_the_excess_over_sampling_error():
    # D = 4, n = 1e4: k = 14 fitted parameters, sampling alone gives SymKL 14 / n = 1.4e-3
    # with standard deviation sqrt(28) / n; four seeds halve that.
    floor, spread = 1.4e-3, 28**0.5 / 1e4
    at_floor = benchmark_jko.discrete_jko_agreement(_ou_rows([floor - 1e-4, floor + 1e-4] * 2))
    assert at_floor["o2_sampling_only"] == pytest.approx(floor)
    assert at_floor["o2_excess_standard_errors"] == pytest.approx(0.0, abs=1e-9)
    above = benchmark_jko.discrete_jko_agreement(_ou_rows([floor + spread] * 4))
    assert above["o2_excess_standard_errors"] == pytest.approx(2.0)
    assert benchmark_jko.discrete_jko_agreement([{"dim": 4, "symkl": 0.1}]) == {}


def test_report_records_the_thread_count_it_ran_with(tmp_path):
    out = tmp_path / "report.md"
    argv = ["--presets", "ou", "--dims", "2", "--skip-jko", "60"]
    benchmark_jko.main([*argv, "--em-particles", "50", "--out", str(out)])
    threads = torch.get_num_threads()
    report = out.read_text()
    assert f"OMP_NUM_THREADS={threads} python -m benchmarks.jko" in report
    assert f"Hardware: CPU, {threads} torch threads" in report


def test_a_published_key_without_mixtures_is_refused_before_any_run(tmp_path, monkeypatch):
    def no_run(*args, **kwargs):
        raise AssertionError("a run started")

    monkeypatch.setattr(benchmark_jko, "benchmark", no_run)
    argv = ["--presets", "ou", "mixture", "--dims", "2", "3", "--mixture-key", "published"]
    with pytest.raises(SystemExit) as stop:
        benchmark_jko.main([*argv, "--out", str(tmp_path / "t.md")])
    assert stop.value.code == 2
