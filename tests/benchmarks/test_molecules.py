"""``benchmarks.molecules``: one row per config and training seed, resumable stages."""

from __future__ import annotations

import json

import torch
import yaml

from benchmarks.molecules import main
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
