"""The double-well loss benchmark: its presets, its numbers and its outputs."""

from __future__ import annotations

import json

import pytest
import torch
from scipy.integrate import trapezoid

from benchmarks.double_well_losses import (
    LOSSES,
    OUTPUTS,
    PRESETS,
    WELLS,
    X0_GRID,
    finetune_summary,
    finetune_table,
    main,
    x0_density,
)
from molgen.training import load_config
from molgen.training.config import config_to_mapping
from systems.double_well import minor_mode_fraction


@pytest.mark.parametrize("beta", [1.0, 0.5])
def test_x0_density_is_the_normalised_quadrature_density(beta):
    density = x0_density(beta)
    positive = X0_GRID >= 0.0
    # Trapezoid rule on a 0.01 grid of a smooth density: error ~ h^2 max|f''| / 12 ~ 1e-5;
    # beyond |x0| = 3 the mass is below e^-20.
    assert trapezoid(density, X0_GRID) == pytest.approx(1.0, abs=1e-12)
    minor = trapezoid(density[positive], X0_GRID[positive])
    assert minor == pytest.approx(minor_mode_fraction(beta), abs=1e-4)


@pytest.mark.parametrize("well", WELLS)
def test_presets_of_a_well_share_their_pre_training(well):
    configs = {loss: load_config(PRESETS / f"{well}_{loss}.yaml") for loss in LOSSES}
    pretrainings = [config_to_mapping(c)["phases"][0] for c in configs.values()]
    assert all(p == pretrainings[0] for p in pretrainings), "the benchmark branches from one"
    assert {c.system for c in configs.values()} == {f"double_well_{well}"}
    assert pretrainings[0]["losses"] == {"kl_z_dd": 1.0}
    assert configs["l2_plus"].phases[1].losses == {"l2_plus": 1.0}


def _record(step, phase, fraction, ess=None, seconds=0.0, log_ratio=0.0):
    samples = {"n": 10_000, "mode_fractions": {"minor": fraction}, "ess_fraction": ess}
    samples["mean_log_ratio"] = log_ratio
    return {"step": step, "phase": phase, "samples": samples, "seconds_per_step": seconds}


def test_finetune_summary_counts_the_start_and_every_fine_tune_point():
    records = [
        _record(100, "pretrain", 0.30, log_ratio=-9.0),
        _record(200, "pretrain", 0.20, log_ratio=-4.0),
        _record(225, "finetune", 0.25, 0.4, 0.01, log_ratio=-3.0),
        _record(250, "finetune", 0.19, 0.5, 0.03, log_ratio=-3.5),
    ]
    summary = finetune_summary(
        records, reference=0.22, tolerance=0.02, seconds=12.0, log_partition=1.0
    )
    # Start is the last pre-training point; the earlier 0.30 is not part of the fine-tune.
    assert summary["start"] == 0.20 and summary["end"] == 0.19
    assert (summary["min"], summary["max"]) == (0.19, 0.25)
    assert summary["max_deviation"] == pytest.approx(0.03)
    assert summary["within_tolerance"] is False
    assert summary["final_ess_fraction"] == 0.5 and summary["steps"] == 50
    assert summary["seconds_per_step"] == pytest.approx(0.02)
    # KL = log Z_B - mean r: 5 at the start, 4 after the first step, 4.5 at the end.
    assert (summary["reverse_kl_start"], summary["reverse_kl_end"]) == (5.0, 4.5)
    assert summary["reverse_kl_largest_rise"] == pytest.approx(0.5)
    assert finetune_summary(records, 0.22, 0.031, 12.0, 1.0)["within_tolerance"] is True
    row = finetune_table({"l2_plus": summary}, 0.02).splitlines()[2]
    assert row == (
        "| l2_plus | 0.200 | 0.190 | 0.190 | 0.250 | 0.030 | no | 0.500 | 5.00 → 4.50 (+0.50) "
        "| 0.0200 | 12 |"
    )


def test_help_documents_the_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    text = capsys.readouterr().out
    assert exit_info.value.code == 0
    for option in ("--wells", "--temperature-factor", "--standardize", "--results"):
        assert option in text
    assert "OMP_NUM_THREADS=1" in text and "narrow" in text


def test_a_tiny_run_writes_every_output(tmp_path):
    results = tmp_path / "results"
    arguments = [
        "--wells", "narrow", "--losses", "l2_plus", "kl_x", "--pretrain-steps", "4",
        "--finetune-steps", "4", "--every", "2", "--eval-samples", "64",
        "--temperature-factor", "2", "--standardize",
        "--out", str(tmp_path / "runs"), "--results", str(results),
    ]  # fmt: skip
    main(arguments)
    variant = results / "narrow_t2_standardized"
    assert sorted(p.name for p in variant.iterdir()) == sorted(OUTPUTS)
    summary = json.loads((variant / "summary.json").read_text())
    assert summary["reference"] == pytest.approx(minor_mode_fraction(0.5))
    assert list(summary["losses"]) == ["l2_plus", "kl_x"]
    assert all(s["steps"] == 4 for s in summary["losses"].values())
    assert summary["command"].startswith(
        f"OMP_NUM_THREADS={torch.get_num_threads()} python -m benchmarks.double_well_losses "
    )
    assert summary["command"].endswith(" ".join(arguments))
    assert "| kl_x |" in (variant / "report.md").read_text()
    assert list(summary["drives"]) == ["pre-trained", "l2_plus", "kl_x"]
    assert all(
        set(row) >= {"minor_fraction", "reverse_kl", "kl_x", "l2_plus_se"}
        for row in summary["drives"].values()
    )
    assert "| pre-trained |" in (variant / "report.md").read_text()


def test_minor_fraction_label_fits_in_the_figure(monkeypatch):
    import matplotlib.pyplot as plt
    import numpy as np

    from benchmarks.double_well_losses import FRACTION_LABEL
    from molgen.plots import comparison
    from molgen.plots.comparison import plot_fraction_traces

    kept = []
    monkeypatch.setattr(comparison, "save_figure", lambda figure, path: kept.append(figure))
    steps = np.arange(0, 100, 10)
    trace = (steps, np.full(10, 0.2), np.full(10, 0.01))
    plot_fraction_traces("f.png", {"kl_x": trace}, 0.22, 0.02, ylabel=FRACTION_LABEL)
    (figure,) = kept
    figure.canvas.draw()
    label = figure.axes[0].yaxis.label.get_window_extent()
    plt.close(figure)
    assert figure.bbox.y0 <= label.y0 and label.y1 <= figure.bbox.y1


def test_results_are_copied_atomically(tmp_path, monkeypatch):
    # A copy that dies half-way leaves the earlier result, not half a file.
    from benchmarks import double_well_losses

    def outputs(run, system, reference, variant, directory, args, command):
        directory.mkdir(parents=True, exist_ok=True)
        for name in OUTPUTS:
            (directory / name).write_text(f"new {name}")

    def broken_copy(source, destination):
        with open(destination, "w") as stream:
            stream.write("half")
        raise OSError("disk full")

    monkeypatch.setattr(double_well_losses, "run_well", lambda *arguments: None)
    monkeypatch.setattr(double_well_losses, "write_outputs", outputs)
    results = tmp_path / "results"
    (results / "narrow").mkdir(parents=True)
    (results / "narrow" / "report.md").write_text("earlier report")
    argv = ["--wells", "narrow", "--out", str(tmp_path / "runs"), "--results", str(results)]
    main(argv)
    assert sorted(p.name for p in (results / "narrow").iterdir()) == sorted(OUTPUTS)
    assert (results / "narrow" / "summary.json").read_text() == "new summary.json"
    (results / "narrow" / "report.md").write_text("earlier report")
    monkeypatch.setattr(double_well_losses.shutil, "copyfile", broken_copy)
    with pytest.raises(OSError, match="disk full"):
        main(argv)
    assert [p.name for p in (results / "narrow").iterdir() if p.name.startswith(".")] == []
    assert (results / "narrow" / "report.md").read_text() == "earlier report"
