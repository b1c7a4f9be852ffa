"""``benchmarks.molecules``: one row per config and training seed, resumable stages."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import yaml

from benchmarks.molecules import _table, main, summary_row
from cli.main import main as molgen
from tests.molgen.training.tiny import tiny_config


def test_one_row_per_training_seed(tmp_path, capsys):
    reference = tmp_path / "reference"
    assert (
        molgen(["reference", "double_well_medium", "--iterations", "40", "--out", str(reference)])
        == 0
    )
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(tiny_config()))
    argv = ["--configs", str(config), "--reference", str(reference), "--out", str(tmp_path / "out")]
    argv += ["--samples", "400", "--train-seeds", "1", "2"]
    assert main(argv) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [row["name"] for row in summary["rows"]] == ["tiny_seed1", "tiny_seed2"]
    threads = torch.get_num_threads()
    assert summary["command"].startswith(
        f"OMP_NUM_THREADS={threads} python -m benchmarks.molecules"
    )
    for seed in (1, 2):
        trained = yaml.safe_load((tmp_path / "out" / f"tiny_seed{seed}" / "train.yaml").read_text())
        assert trained["seed"] == seed
    first, second = summary["rows"]
    # Different seeds give different networks, hence different importance weights.
    assert first["ess"] != second["ess"]
    assert set(first["populations"]) == {"major", "minor"}
    assert "### tiny_seed2" in (tmp_path / "out" / "summary.md").read_text()

    checkpoint = tmp_path / "out" / "tiny_seed1" / "train" / "checkpoints" / "final.pt"
    stamp = checkpoint.stat().st_mtime_ns
    capsys.readouterr()
    assert main(argv) == 0
    assert checkpoint.stat().st_mtime_ns == stamp, "a finished training was repeated"


def _row(energy: np.ndarray, log_weight: np.ndarray) -> dict:
    """The summary row of samples with these energies (kJ/mol) and log weights ``(n,)``."""
    config = {
        "system": "dialanine",
        "flow": {"hydrogens": "flow"},
        "phases": [{"losses": {"kl_x": 1.0}}],
    }
    report = {key: {} for key in ("populations", "reference_populations")}
    report |= {"n": energy.size, "ess": 1.0, "ess_fraction": 0.1, "population_comparison": {}}
    arrays = {
        "modes": np.zeros(energy.size, dtype=int),
        "mode_names": np.array([]),
        "energy": energy,
        "log_weight": log_weight,
    }
    return summary_row("run", config, report, arrays, None)


def test_reweighted_energy_skips_overflowed_samples_and_has_an_error_bar():
    # An overflowed sample: log w = -inf and its energy NaN; it carries no weight.
    rng = np.random.default_rng(0)
    energy = np.append(rng.normal(-50.0, 2.0, 999), np.nan)
    log_weight = np.append(np.zeros(999), -np.inf)
    row = _row(energy, log_weight)
    entry = row["reweighted_energy"]
    assert entry["mean"] == pytest.approx(np.mean(energy[:-1]))
    assert entry["sem"] == pytest.approx(np.std(energy[:-1]) / np.sqrt(999), rel=1e-6)
    text = _table([row])
    assert f"reweighted mean energy {entry['mean']:.2f} ± {entry['sem']:.2f} kJ/mol" in text


def test_reweighted_energy_is_withheld_at_an_ess_of_one():
    energy = np.linspace(-60.0, -40.0, 1000)
    log_weight = np.zeros(1000)
    log_weight[0] = 50.0  # one sample holds all the weight: ESS 1
    entry = _row(energy, log_weight)["reweighted_energy"]
    assert entry["mean"] is None and entry["trusted"] is False
    text = _table([_row(energy, log_weight)])
    assert f"reweighted mean energy withheld ({entry['reason']})" in text
