"""``molgen evaluate``: report.json with the run contract's keys, plots, exit statuses."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

import systems
from cli.main import main
from systems.double_well import minor_mode_fraction, sample_bimodal
from systems.reference.populations import free_energy_differences, population_table
from tests.molgen.estimate.conftest import write_sidecar

REFERENCE_FRAMES = 20_000


def _write_reference(folder: Path, stats: dict, **frames) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stats.json").write_text(json.dumps(stats))
    if frames:
        np.savez(folder / "frames.npz", **frames)
    return folder


def _molecule_stats(system, fractions: np.ndarray) -> dict:
    """A 300 K reference's stats.json content: ``fractions`` of ``system``'s three modes,
    each with standard error 0.05."""
    return {
        "system": system.name,
        "temperature": 300.0,
        "energy_unit": "kJ/mol",
        "populations": population_table(fractions, np.full(3, 0.05), system.mode_names),
    }


def _double_well_reference(folder: Path) -> Path:
    """Exact populations (quadrature) and independent exact samples of x0."""
    p_minor = minor_mode_fraction(1.0)
    fractions = np.array([1.0 - p_minor, p_minor])
    names = ("major", "minor")
    x0 = sample_bimodal(REFERENCE_FRAMES, 1.0, torch.Generator().manual_seed(3)).numpy()
    x = np.stack([x0, np.random.default_rng(4).normal(size=x0.size)], axis=1)
    energy = systems.load("double_well_2d").energy()(torch.as_tensor(x)).numpy()
    stats = {
        "system": "double_well_2d",
        "temperature": 1.0,
        "energy_unit": "reduced",
        "populations": population_table(fractions, np.zeros(2), names),
        "free_energy_differences": free_energy_differences(fractions, np.inf, 1.0, names),
    }
    return _write_reference(
        folder, stats, x0=x0, reduced_potential=energy, mode=(x0 > 0).astype(np.int64)
    )


def test_double_well_report_and_plots(toy_samples, tmp_path, capsys):
    reference = _double_well_reference(tmp_path / "reference")
    out = tmp_path / "evaluation"
    status = main(["evaluate", str(toy_samples), "--reference", str(reference), "--out", str(out)])
    text = capsys.readouterr().out
    assert status == 0, text
    report = json.loads((out / "report.json").read_text())
    for key in ("system", "ess", "populations", "reference_populations", "free_energies"):
        assert key in report
    assert report["system"] == "double_well_2d"
    minor = report["populations"]["minor"]
    assert set(minor) >= {"mean", "sem"}
    # The reference is exact (sem 0), so z measures the sample error alone; 4 standard
    # errors bound a correct estimate with false-failure probability 6e-5.
    assert abs(report["population_comparison"]["minor"]["z"]) < 4
    assert abs(report["free_energy_comparison"]["major->minor"]["z"]) < 4
    assert math.isclose(
        report["reference_free_energies"]["major->minor"]["value_kT"],
        -math.log(minor_mode_fraction(1.0) / (1 - minor_mode_fraction(1.0))),
    )
    expected_plots = {"x0", "populations", "energy_histogram", "log_weights", "energy_scatter"}
    assert set(report["plots"]) == expected_plots
    for name in report["plots"].values():
        assert (out / name).stat().st_size > 5_000
    assert "z =" in text
    within = sum(entry["within_2_sem"] for entry in report["population_comparison"].values())
    assert f"{within} of 2 populations within 2 combined standard errors" in text


def test_butane_dihedral_plot_from_a_trajectory(butane_samples, butane_md_frames, tmp_path):
    butane = systems.load("butane")
    labels = np.asarray(butane.modes(butane_md_frames))
    fractions = np.bincount(labels, minlength=3) / labels.size
    stats = _molecule_stats(butane, fractions)
    reference = _write_reference(
        tmp_path / "reference",
        stats,
        dihedral=np.asarray(butane.observables["dihedral"](butane_md_frames)),
    )
    out = tmp_path / "evaluation"
    assert (
        main(["evaluate", str(butane_samples), "--reference", str(reference), "--out", str(out)])
        == 0
    )
    report = json.loads((out / "report.json").read_text())
    assert "dihedral" in report["plots"] and (out / "dihedral.png").stat().st_size > 5_000
    assert report["skipped_plots"]["energy_histogram"] == "the samples have no 'u_b' or 'energy'"
    # Samples and reference are the same frames: populations agree up to the rounding of
    # a weighted sum of 450 terms (~1e-16).
    for comparison in report["population_comparison"].values():
        assert abs(comparison["difference"]) < 1e-12


def test_missing_reference_keys_exit_2(toy_samples, tmp_path, capsys):
    reference = _write_reference(tmp_path / "reference", {"system": "double_well_2d"})
    status = main(["evaluate", str(toy_samples), "--reference", str(reference)])
    error = capsys.readouterr().err
    assert status == 2
    assert "stats.json: key 'populations' missing" in error
    assert "Traceback" not in error


def test_dialanine_report_counts_d_residues(tmp_path):
    import mdtraj

    dialanine = systems.load("dialanine")
    rng = np.random.default_rng(4)
    frames = dialanine.positions[None] + rng.normal(scale=0.003, size=(40, 22, 3))
    frames[:10] *= np.array([-1.0, 1.0, 1.0])  # 10 mirror images: D-alanine
    trajectory = mdtraj.Trajectory(frames.astype(np.float32), dialanine.topology)
    trajectory.save_dcd(str(tmp_path / "samples.dcd"))
    trajectory[0].save_pdb(str(tmp_path / "samples.pdb"))
    labels = np.asarray(dialanine.modes(frames))
    write_sidecar(tmp_path / "samples.dcd.npz", log_w=np.zeros(40), modes=labels)
    stats = _molecule_stats(dialanine, np.array([1.0, 0.0, 0.0]))
    reference = _write_reference(tmp_path / "reference", stats)
    out = tmp_path / "evaluation"
    main(
        [
            "evaluate",
            str(tmp_path / "samples.dcd.npz"),
            "--reference",
            str(reference),
            "--out",
            str(out),
        ]
    )
    report = json.loads((out / "report.json").read_text())
    assert report["d_fraction"] == 0.25
    # Equal weights (log_w = 0) but 40 samples < the 50-sample ESS floor: no reweighted value.
    assert report["d_fraction_reweighted"]["trusted"] is False


def test_dialanine_report_counts_c7ax_samples_across_the_phi_seam(tmp_path):
    from systems.observables import dialanine_states

    rng = np.random.default_rng(5)
    # 100 samples: 20 in the beta/C5 basin beyond the seam (phi > 120 deg), 10 in C7ax proper.
    phi = np.radians(
        np.concatenate(
            [rng.uniform(125, 180, 20), rng.uniform(40, 110, 10), -rng.uniform(50, 170, 70)]
        )
    )
    psi = rng.uniform(-np.pi, np.pi, phi.size)
    labels = np.asarray(dialanine_states(phi, psi))
    samples = write_sidecar(
        tmp_path / "samples.npz",
        log_w=np.zeros(phi.size),
        modes=labels,
        phi=phi,
        psi=psi,
        system=np.array("dialanine"),
    )
    dialanine = systems.load("dialanine")
    stats = _molecule_stats(dialanine, np.array([0.7, 0.0, 0.3]))
    reference_phi = np.radians([150.0, 60.0, -80.0, -80.0])
    reference = _write_reference(tmp_path / "reference", stats, phi=reference_phi)
    out = tmp_path / "evaluation"
    status = main(["evaluate", str(samples), "--reference", str(reference), "--out", str(out)])
    assert status == 0
    report = json.loads((out / "report.json").read_text())
    assert report["phi_above_120_fraction"] == 0.2
    # Equal weights: reweighted fractions are the plain ones, up to the rounding of a
    # normalised sum of 100 terms (~1e-16).
    assert abs(report["populations"]["C7ax"]["mean"] - 0.3) < 1e-12
    assert abs(report["phi_above_120_fraction_reweighted"]["mean"] - 0.2) < 1e-12
    assert report["reference_phi_above_120_fraction"] == 0.25


def test_a_plot_that_cannot_be_drawn_is_recorded_and_the_report_kept(
    toy_samples, tmp_path, monkeypatch
):
    import molgen.plots.evaluation

    def undrawable(*args, **kwargs):
        raise ValueError("autodetected range of [nan, nan] is not finite")

    monkeypatch.setattr(molgen.plots.evaluation, "plot_log_weights", undrawable)
    reference = _double_well_reference(tmp_path / "reference")
    out = tmp_path / "evaluation"
    assert (
        main(["evaluate", str(toy_samples), "--reference", str(reference), "--out", str(out)]) == 0
    )
    report = json.loads((out / "report.json").read_text())
    assert "log_weights" not in report["plots"] and "x0" in report["plots"]
    assert report["skipped_plots"]["log_weights"] == (
        "not drawn: autodetected range of [nan, nan] is not finite"
    )


def test_refused_weights_are_not_drawn_as_a_reweighted_density(toy_samples, tmp_path):
    # the reweighted curves used to be drawn even when every estimate was refused
    reference = _double_well_reference(tmp_path / "reference")
    out = tmp_path / "evaluation"
    argv = ["evaluate", str(toy_samples), "--reference", str(reference), "--out", str(out)]
    assert main([*argv, "--min-ess", "1e9"]) == 1
    report = json.loads((out / "report.json").read_text())
    assert "too few effective samples" in report["skipped_plots"]["reweighted_densities"]
    assert "x0" in report["plots"]


def test_histograms_without_weights_draw_no_reweighted_curve():
    import matplotlib.pyplot as plt

    from molgen.plots.figure import step_histograms

    figure, axis = plt.subplots()
    values = np.random.default_rng(0).normal(size=100)
    step_histograms(axis, values, 10, None, values)
    labels = [patch.get_label() for patch in axis.patches]
    assert labels == ["samples (unweighted)", "reference"]
    plt.close(figure)


def test_max_z_turns_a_disagreement_into_exit_status_3(toy_samples, tmp_path, capsys):
    reference = _double_well_reference(tmp_path / "reference")
    stats = json.loads((reference / "stats.json").read_text())
    # Shift the reference's minor population by 0.1 with standard error 1e-3: far beyond
    # any sampling error of 4000 proposal samples (~0.01).
    p_minor = minor_mode_fraction(1.0) + 0.1
    stats["populations"] = population_table(
        np.array([1.0 - p_minor, p_minor]), np.full(2, 1e-3), ("major", "minor")
    )
    (reference / "stats.json").write_text(json.dumps(stats))
    out = tmp_path / "evaluation"
    command = ["evaluate", str(toy_samples), "--reference", str(reference), "--out", str(out)]
    assert main(command) == 0
    assert main([*command, "--max-z", "4"]) == 3
    assert "beyond 4 combined standard errors: major, minor" in capsys.readouterr().out
    assert (out / "report.json").is_file()
    assert main([*command, "--max-z", "1000"]) == 0


def test_a_report_of_other_samples_is_not_overwritten(toy_samples, tmp_path, capsys):
    reference = _double_well_reference(tmp_path / "reference")
    out = tmp_path / "evaluation"
    assert (
        main(["evaluate", str(toy_samples), "--reference", str(reference), "--out", str(out)]) == 0
    )
    first = (out / "report.json").read_text()
    other = tmp_path / "other" / "samples.npz"
    other.parent.mkdir()
    other.write_bytes(toy_samples.read_bytes())
    status = main(["evaluate", str(other), "--reference", str(reference), "--out", str(out)])
    assert status == 2
    assert f"holds the evaluation of '{toy_samples}'" in capsys.readouterr().err
    assert (out / "report.json").read_text() == first


def test_plots_without_a_report_are_not_overwritten(toy_samples, tmp_path, capsys):
    reference = _double_well_reference(tmp_path / "reference")
    out = tmp_path / "figures"
    out.mkdir()
    (out / "x0.png").write_bytes(b"my own figure")
    status = main(["evaluate", str(toy_samples), "--reference", str(reference), "--out", str(out)])
    assert status == 2
    assert "holds plots (x0.png) but no report.json" in capsys.readouterr().err
    assert (out / "x0.png").read_bytes() == b"my own figure"


def test_every_plot_drawn_is_one_the_output_check_knows(toy_samples, tmp_path):
    from molgen.plots.evaluation import PLOTS

    reference = _double_well_reference(tmp_path / "reference")
    out = tmp_path / "evaluation"
    main(["evaluate", str(toy_samples), "--reference", str(reference), "--out", str(out)])
    report = json.loads((out / "report.json").read_text())
    assert set(report["plots"]) <= set(PLOTS)
    assert {path.stem for path in out.glob("*.png")} <= set(PLOTS)


def test_a_reference_folder_evaluated_as_samples_counts_its_correlation(tmp_path, capsys):
    """Frames of a Markov chain are not independent: the ESS is n over the statistical
    inefficiency, as free-energy's --correlated gives it."""
    reference = tmp_path / "reference"
    argv = ["reference", "double_well_2d", "--iterations", "400", "--chains", "2"]
    assert main([*argv, "--no-progress", "--out", str(reference)]) == 0
    out = tmp_path / "evaluation"
    main(["evaluate", str(reference), "--reference", str(reference), "--out", str(out)])
    assert "analysed as --correlated" in capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    assert report["correlated"] is True
    # Metropolis frames of a double well are correlated over many iterations: g > 1.5
    assert report["ess"] < report["n"] / 1.5


def test_a_molecules_reweighted_mean_energy_is_set_beside_the_references(
    butane_md_frames, tmp_path, capsys
):
    from tests.molgen.estimate.conftest import write_butane_samples

    butane = systems.load("butane")
    energy = butane.energy()(torch.as_tensor(butane_md_frames)).detach().numpy()
    log_w = np.random.default_rng(5).normal(scale=0.3, size=len(energy))
    samples = write_butane_samples(tmp_path / "samples", butane_md_frames, log_w)
    arrays = dict(np.load(samples))
    np.savez(samples, **arrays, energy=energy)
    stats = _molecule_stats(butane, np.full(3, 1 / 3))
    stats["energy"] = {"mean": 60.0, "sem": 0.5}
    reference = _write_reference(tmp_path / "reference", stats)
    out = tmp_path / "evaluation"
    main(["evaluate", str(samples), "--reference", str(reference), "--out", str(out)])
    report = json.loads((out / "report.json").read_text())
    weights = np.exp(log_w - log_w.max())
    expected = float(np.sum(weights * energy) / np.sum(weights))
    # the same weighted sum of 450 terms: equal up to rounding
    assert report["mean_energy"]["mean"] == pytest.approx(expected, rel=1e-12)
    assert report["reference_mean_energy"] == {"mean": 60.0, "sem": 0.5}
    combined = math.hypot(report["mean_energy"]["sem"], 0.5)
    assert report["mean_energy_comparison"]["z"] == pytest.approx((expected - 60.0) / combined)
    assert "mean energy:" in capsys.readouterr().out


def test_the_energy_histogram_shows_the_physical_energy_not_the_aligned_target(tmp_path):
    # u_b of an aligned run holds beta U_align too: the histogram sat about 3 kT to the
    # right of the reference's reduced potential, which has no penalty
    from molgen.estimate.context import prepare_samples
    from molgen.plots.evaluation import _reduced_physical_energy
    from tests.molgen.estimate.conftest import write_sidecar

    rng = np.random.default_rng(10)
    energy = rng.normal(60.0, 5.0, 100)
    butane = systems.load("butane")
    sidecar = write_sidecar(
        tmp_path / "s.npz",
        log_w=rng.normal(size=100),
        energy=energy,
        u_b=butane.beta * energy + 3.0,
        modes=rng.integers(0, 3, 100),
        system=np.array("butane"),
        temperature=np.array(300.0),
    )
    reduced = _reduced_physical_energy(prepare_samples(sidecar))
    np.testing.assert_allclose(reduced, butane.beta * energy, rtol=1e-12)


def test_max_z_flags_a_generator_that_lost_a_mode(tmp_path, capsys):
    # every sample in the major mode: the minor population is withheld (no effective
    # sample there), and the major one lies far from the reference; exit 1 ("too few
    # effective samples") hid that disagreement from scripts
    from tests.molgen.estimate.conftest import write_sidecar

    reference = _double_well_reference(tmp_path / "reference")
    x = np.random.default_rng(11).normal(-1.0, 0.3, (500, 2))
    samples = write_sidecar(
        tmp_path / "s.npz",
        x=x,
        log_w=np.zeros(500),
        modes=np.zeros(500, dtype=np.int64),
        system=np.array("double_well_2d"),
    )
    command = ["evaluate", str(samples), "--reference", str(reference)]
    assert main([*command, "--out", str(tmp_path / "plain")]) == 1
    assert main([*command, "--out", str(tmp_path / "checked"), "--max-z", "4"]) == 3
    assert "beyond 4 combined standard errors: major" in capsys.readouterr().out


def test_the_d_fraction_of_correlated_frames_counts_their_correlation(tmp_path):
    # frames 0-99 D, 100-199 L: a series that stays put, whose D fraction is known to far
    # less than 200 independent samples would give
    import mdtraj

    from molgen.estimate.context import prepare_samples
    from molgen.estimate.ess import EssThreshold
    from molgen.plots.evaluation import _chirality_section

    dialanine = systems.load("dialanine")
    rng = np.random.default_rng(5)
    frames = dialanine.positions[None] + rng.normal(scale=0.003, size=(200, 22, 3))
    frames[:100] *= np.array([-1.0, 1.0, 1.0])
    trajectory = mdtraj.Trajectory(frames.astype(np.float32), dialanine.topology)
    trajectory.save_dcd(str(tmp_path / "samples.dcd"))
    trajectory[0].save_pdb(str(tmp_path / "samples.pdb"))
    write_sidecar(tmp_path / "samples.dcd.npz", log_w=np.zeros(200), system=np.array("dialanine"))
    context = prepare_samples(tmp_path / "samples.dcd.npz")
    loose = EssThreshold(1, 0)
    independent = _chirality_section(context, loose, correlated=False)["d_fraction_reweighted"]
    correlated = _chirality_section(context, loose, correlated=True)["d_fraction_reweighted"]
    assert correlated["sem"] > 3 * independent["sem"]


class _Killed(BaseException):
    """Stands in for SIGKILL: nothing in the command handles it."""


def test_an_evaluation_killed_while_drawing_is_continued_by_its_rerun(
    toy_samples, tmp_path, monkeypatch
):
    import molgen.plots.evaluation as evaluation

    reference = _double_well_reference(tmp_path / "reference")
    out = tmp_path / "evaluation"
    argv = ["evaluate", str(toy_samples), "--reference", str(reference), "--out", str(out)]
    draw = evaluation._plots

    def killed_after_one_plot(context, reference, report, out_dir):
        (out_dir / "x0.png").write_bytes(b"half of the figures")
        raise _Killed

    monkeypatch.setattr(evaluation, "_plots", killed_after_one_plot)
    with pytest.raises(_Killed):
        main(argv)
    monkeypatch.setattr(evaluation, "_plots", draw)
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert "x0" in report["plots"] and (out / "x0.png").read_bytes() != b"half of the figures"
