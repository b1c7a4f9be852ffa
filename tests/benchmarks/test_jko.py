"""``benchmarks.jko``: what the Euler–Maruyama seconds count."""

from __future__ import annotations

import argparse
import math
import time
from types import SimpleNamespace

import pytest
import torch

from benchmarks import jko as benchmark_jko

DRAW_SECONDS = 0.5


def test_euler_maruyama_seconds_leave_out_the_initial_draw():
    # JKO-ICNN's seconds leave out drawing its initial cloud (molgen.jko.run.run_flow), so
    # Euler–Maruyama's must too: a slow draw may not show in its seconds.
    def slow_sample(count: int) -> torch.Tensor:
        time.sleep(DRAW_SECONDS)
        return torch.zeros(count, 2)

    problem = SimpleNamespace(
        initial=SimpleNamespace(sample=slow_sample),
        drift_gradient=lambda x: x,
        temperature=1.0,
        evaluate_particles=lambda cloud, t: {"symkl": 0.0},
    )
    config = SimpleNamespace(flow=SimpleNamespace(steps=1, step_size=0.01), device="cpu")
    args = argparse.Namespace(skip_jko=1e9, em_particles=[10])
    (row,) = benchmark_jko._method_rows(config, problem, args)
    assert row["method"].startswith("Euler-Maruyama (10 particles")
    # Ten steps of ten particles take well under a millisecond; the draw alone is 0.5 s.
    assert row["seconds"] < DRAW_SECONDS / 2


def _row(seed: int, symkl: float) -> dict:
    return {
        "preset": "ou",
        "dim": 2,
        "seed": seed,
        "method": "JKO-ICNN",
        "time": 0.9,
        "symkl": symkl,
        "seconds": 10.0,
        "within_budget": True,
        "evaluation_samples": 10_000,
        "symkl_to_discrete_jko": 6e-4,
    }


def test_one_seed_has_no_standard_deviation():
    (single,) = benchmark_jko.summarise([_row(0, 1e-3)])
    assert math.isnan(single["symkl_sd"]) and math.isnan(single["o2_symkl_sd"])
    table = benchmark_jko.markdown([single], "command", "cpu")
    assert "| 1.00e-03 ± n/a |" in table and "| 6.00e-04 ± n/a |" in table
    (pair,) = benchmark_jko.summarise([_row(0, 1e-3), _row(1, 3e-3)])
    assert pair["symkl_sd"] == pytest.approx(math.sqrt(2) * 1e-3)
    assert "| 2.00e-03 ± 1.4e-03 |" in benchmark_jko.markdown([pair], "command", "cpu")
