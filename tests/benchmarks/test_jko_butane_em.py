"""The butane Euler-Maruyama benchmark writes populations per evaluation time."""

import json

import yaml

from benchmarks.jko_butane_em import main


def test_writes_populations_and_a_table(tmp_path):
    config = tmp_path / "butane.yaml"
    # Two evaluation times of 100 Euler-Maruyama steps each (dt 5e-6, stable for the C-H
    # bonds), far too short to leave the trans well.
    settings = {
        "preset": "butane",
        "dim": 42,
        "evaluate_every": 1,
        "network": {"hidden": [8, 8]},
        "flow": {"step_size": 0.0005, "steps": 2},
        "problem": {"initial_std": 0.003},
    }
    config.write_text(yaml.safe_dump(settings))
    out = tmp_path / "em"
    main(["--config", str(config), "--particles", "16", "--out", str(out)])
    result = json.loads((tmp_path / "em.json").read_text())
    assert list(result["metrics"]) == ["0.0005", "0.001"]
    for metrics in result["metrics"].values():
        assert metrics["populations"]["trans"] == 1.0
    assert result["config"]["baseline"] == {"particles": 16, "time_step": 5e-6}
    assert (tmp_path / "em.md").read_text().count("\n| 0.00") == 2
