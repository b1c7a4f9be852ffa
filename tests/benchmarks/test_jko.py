"""``benchmarks.jko``: what the Euler–Maruyama seconds count."""

from __future__ import annotations

import argparse
import time
from types import SimpleNamespace

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
