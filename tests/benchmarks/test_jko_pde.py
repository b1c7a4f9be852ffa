"""benchmarks.jko_pde: one row per seed from its own molgen jko run, reused on a rerun."""

from __future__ import annotations

import json

from benchmarks.jko_pde import main


def test_a_seeds_row_is_the_largest_error_of_its_run_and_a_rerun_reuses_it(tmp_path):
    runs, out = tmp_path / "runs", tmp_path / "report.md"
    arguments = ["--presets", "porous", "--seeds", "3", "--runs", str(runs), "--out", str(out)]
    assert main(arguments) == 0
    metrics = json.loads((runs / "porous_s3" / "metrics.json").read_text())["metrics"]
    errors = [metrics[time]["energy_relative_error"] for time in sorted(metrics, key=float)]
    largest = max(abs(error) for error in errors)
    row = f"| 3 | {largest:.2%} | {errors[-1]:+.2%} |"
    assert row in out.read_text()
    first = out.read_text()
    assert main(arguments) == 0
    assert out.read_text().split("\n", 1)[1] == first.split("\n", 1)[1]
