"""``molgen evaluate``: option ranges are usage errors; a reference of another system than
the samples is named as such."""

from __future__ import annotations

import json

import numpy as np
import pytest

import systems
from cli.main import main
from tests.molgen.estimate.conftest import double_well_samples, write_butane_samples
from tests.reliability.cli_contract import assert_cli_rejects


def _double_well_reference(folder):
    folder.mkdir()
    stats = {
        "system": "double_well_2d",
        "temperature": 1.0,
        "populations": {"major": {"mean": 0.9, "sem": 0.01}, "minor": {"mean": 0.1, "sem": 0.01}},
    }
    (folder / "stats.json").write_text(json.dumps(stats))
    return folder


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--temperature", "0", "must be positive"),
        ("--temperature", "inf", "must be finite"),
        ("--min-ess", "-1", "must be >= 0"),
        ("--min-ess-fraction", "2", "must lie in [0, 1]"),
    ],
)
def test_out_of_range_values_are_usage_errors(tmp_path, option, value, message, capsys):
    samples = double_well_samples(tmp_path / "samples.npz", 100, 0.0, 1.5, seed=0)
    reference = _double_well_reference(tmp_path / "reference")
    assert_cli_rejects(
        ["evaluate", str(samples), "--reference", str(reference), option, value],
        capsys,
        [f"argument {option}: {message}"],
    )


def test_a_reference_of_another_system_is_named(tmp_path, capsys):
    sidecar = tmp_path / "samples.npz"
    np.savez(sidecar, log_w=np.zeros(3), modes=np.array([0, 1, 2]), system=np.array("butane"))
    reference = _double_well_reference(tmp_path / "reference")
    out = tmp_path / "evaluation"
    argv = ["evaluate", str(sidecar), "--reference", str(reference), "--out", str(out)]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert "a reference of double_well_2d, but the samples" in error
    assert "are of butane" in error
    assert not out.exists()


def test_samples_without_a_system_that_do_not_fit_the_reference_are_refused(tmp_path, capsys):
    butane = systems.load("butane")
    frames = butane.positions[None] + 0.001 * np.random.default_rng(0).normal(size=(4, 14, 3))
    sidecar = write_butane_samples(tmp_path / "samples", frames)
    reference = _double_well_reference(tmp_path / "reference")
    out = tmp_path / "evaluation"
    argv = ["evaluate", str(sidecar), "--reference", str(reference), "--out", str(out)]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert "system double_well_2d has points of dimension 2" in error
    assert not out.exists()


def test_a_reference_at_another_temperature_is_named(tmp_path, capsys):
    samples = double_well_samples(tmp_path / "samples.npz", 100, 0.0, 1.5, seed=0)
    reference = _double_well_reference(tmp_path / "reference")
    out = tmp_path / "evaluation"
    argv = ["evaluate", str(samples), "--reference", str(reference), "--out", str(out)]
    # The samples are of double_well_2d at temperature factor 1, the reference's too: a
    # report (exit 1 only says that too little overlap left a population unestimated).
    assert main([*argv, "--system", "double_well_2d"]) in (0, 1)
    assert (out / "report.json").is_file()
    stats = json.loads((reference / "stats.json").read_text())
    (reference / "stats.json").write_text(json.dumps({**stats, "temperature": 2.0}))
    out.rename(tmp_path / "first")
    assert main([*argv, "--system", "double_well_2d"]) == 2
    error = capsys.readouterr().err
    assert "a reference at temperature 2, but the samples" in error and "analysed at 1" in error
    assert not out.exists()


def test_samples_without_a_system_take_the_references_variant(tmp_path):
    from molgen.estimate.context import prepare_samples

    butane = systems.load("butane")
    frames = butane.positions[None] + 0.001 * np.random.default_rng(0).normal(size=(4, 14, 3))
    sidecar = write_butane_samples(tmp_path / "samples", frames)
    context = prepare_samples(sidecar, default_system="butane:lipid")
    lipid = systems.load("butane", variant="lipid")
    assert context.system.name == "butane" and context.system.prm == lipid.prm
