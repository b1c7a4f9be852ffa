"""Deterministic-hydrogen runs against the App. A.2 estimate (``benchmarks.molecules``)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import yaml

import systems
from benchmarks.deterministic_hydrogens import a2_comparison, a2_table, minimised_log_weights
from benchmarks.molecules import main
from systems.reference.hydrogen_minimisation import minimise_hydrogens
from tests.benchmarks.butane_reference import write_butane_reference

NAMES = ["gauche+", "trans", "gauche-"]
A2 = {
    "frames": 400,
    "kish_ess": 120.0,
    "populations": {
        "gauche+": {"mean": 0.2, "sem": 0.02},
        "trans": {"mean": 0.6, "sem": 0.03},
        "gauche-": {"mean": 0.2, "sem": 0.02},
    },
}


def test_each_estimate_is_compared_with_combined_errors():
    labels = np.repeat([0, 1, 2], [100, 300, 200])
    log_weights = {"reweighted": np.zeros(600), "minimised": np.log(np.where(labels == 2, 0.5, 1))}
    comparison = a2_comparison(labels, NAMES, log_weights, A2)
    table = comparison["populations"]
    assert list(table) == ["raw", "reweighted", "minimised"]
    assert comparison["ess"]["raw"] == comparison["ess"]["reweighted"] == 600
    assert comparison["ess"]["minimised"] == pytest.approx(500**2 / (400 + 200 * 0.25))
    raw = table["raw"]["gauche-"]
    assert raw["mean"] == pytest.approx(1 / 3)
    assert raw["sem"] == pytest.approx(math.sqrt(1 / 3 * 2 / 3 / 600), rel=1e-6)
    expected_z = (1 / 3 - 0.2) / math.hypot(raw["sem"], 0.02)
    assert raw["comparison"]["z"] == pytest.approx(expected_z)
    assert table["reweighted"]["trans"]["mean"] == pytest.approx(0.5)
    # half weight on gauche-: 100 / 500 of the total weight
    assert table["minimised"]["gauche-"]["mean"] == pytest.approx(0.2)
    assert table["minimised"]["gauche-"]["comparison"]["z"] == pytest.approx(0.0, abs=1e-12)
    lines = a2_table(comparison, A2)
    assert "400 reference frames, Kish ESS 120); Kish ESS of the samples: raw 600," in lines[0]
    assert lines[2] == "| state | raw | reweighted | minimised | A.2 |"
    assert lines[6].startswith("| gauche- | 0.3333 ± ") and lines[6].endswith("| 0.2000 ± 0.0200 |")


def test_minimised_weights_add_the_energy_the_minimisation_removes():
    butane = systems.load("butane")
    rng = np.random.default_rng(4)
    frames = butane.positions[None] + rng.normal(scale=0.005, size=(3, butane.n_atoms, 3))
    energy = butane.energy(dtype=torch.float64)(torch.as_tensor(frames)).numpy()
    log_weight = np.array([0.5, -1.0, 2.0])
    log_w = minimised_log_weights(butane, frames, log_weight, energy)
    minimum = minimise_hydrogens(
        butane.energy(dtype=torch.float64),
        torch.as_tensor(frames),
        butane.hydrogens,
        max_iterations=2000,
    )
    expected = log_weight + butane.beta * (energy - butane.energy()(minimum).numpy())
    np.testing.assert_allclose(log_w, expected, atol=1e-6)
    # the noisy hydrogens lie well above their minimum (several kJ/mol)
    assert np.all(log_w - log_weight > 1.0)


def _deterministic_butane() -> dict:
    return {
        "system": "butane",
        "seed": 0,
        "flow": {"preset": "molecule", "width": 8, "repeats": 1, "standardize": True},
        "metrics": {"every": 2, "samples": 0},
        "phases": [
            {
                "name": "hydrogens",
                "steps": 2,
                "batch_size": 16,
                "lr": 1e-3,
                "losses": {"hydrogen_energy": 1.0, "kl_z_dd": 1.0},
                "data": {"source": "reference", "path": "replaced"},
            }
        ],
    }


def test_benchmark_adds_the_a2_comparison_for_deterministic_hydrogens(tmp_path):
    reference = write_butane_reference(tmp_path / "reference")
    a2_file = tmp_path / "a2.json"
    a2_file.write_text(json.dumps(A2))
    configs = []
    for hydrogens in ("deterministic", "flow"):
        mapping = _deterministic_butane()
        mapping["flow"]["hydrogens"] = hydrogens
        if hydrogens == "flow":
            mapping["phases"][0]["losses"] = {"kl_z_dd": 1.0}
        configs.append(tmp_path / f"{hydrogens}.yaml")
        configs[-1].write_text(yaml.safe_dump(mapping))
    argv = ["--configs", *map(str, configs), "--reference", str(reference)]
    argv += ["--out", str(tmp_path / "out"), "--samples", "64"]
    assert main([*argv, "--hydrogen-minimised-reference", str(a2_file)]) == 0
    deterministic, flow = json.loads((tmp_path / "out" / "summary.json").read_text())["rows"]
    assert "a2_comparison" not in flow
    assert set(deterministic["a2_comparison"]["populations"]) == {"raw", "reweighted", "minimised"}
    raw = deterministic["a2_comparison"]["populations"]["raw"]
    # Raw populations are fractions; a mode that the 64 samples of this two-step flow
    # barely visit (fewer than MIN_STATE_ESS samples) is refused, naming it, not given
    # as 0 ± 0.
    given = {mode: raw[mode]["mean"] for mode in NAMES if raw[mode]["trusted"]}
    assert given and sum(given.values()) <= 1.0 + 1e-12
    for mode in set(NAMES) - set(given):
        assert f"too few samples in state {mode!r}" in raw[mode]["reason"]
    assert raw["trans"]["a2"] == A2["populations"]["trans"]
    assert (tmp_path / "out" / "deterministic" / "minimised_log_weights.npz").is_file()
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert summary.count("Against the App. A.2 estimate") == 1


def test_a_missing_a2_file_is_a_usage_error(tmp_path, capsys):
    reference = write_butane_reference(tmp_path / "reference")
    argv = ["--configs", "x.yaml", "--reference", str(reference), "--out", str(tmp_path)]
    with pytest.raises(SystemExit) as error:
        main([*argv, "--hydrogen-minimised-reference", str(tmp_path / "none.json")])
    assert error.value.code == 2 and "none.json: no file" in capsys.readouterr().err
