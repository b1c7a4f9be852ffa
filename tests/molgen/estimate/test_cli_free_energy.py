"""``molgen free-energy`` on sample files: JSON, printed table and exit status 0/1/2."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.special import logsumexp

import systems
from cli.main import main
from molgen.estimate import kish_ess
from systems.double_well import minor_mode_fraction
from systems.files import charmm_files
from tests.molgen.estimate.conftest import double_well_samples

# Every dihedral force constant times 20: the Boltzmann distribution of U_C sits in
# narrow dihedral wells that few frames of U_B reach (measured Kish ESS ≈ 3 of 450).
# (Times 5 still overlaps from this side: p_C is narrower than p_B, and forward FEP from
# 4500 default frames agreed with BAR, ESS ≈ 790.)
DIHEDRAL_SCALE = 20.0


def _run(arguments: list[str], capsys) -> tuple[int, str, str]:
    status = main(arguments)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_state_free_energy_of_a_double_well(toy_samples, tmp_path, capsys):
    out = tmp_path / "fe.json"
    status, text, _ = _run(
        ["free-energy", str(toy_samples), "--states", "major", "minor", "--json", str(out)], capsys
    )
    assert status == 0
    assert "major->minor" in text and "±" in text
    report = json.loads(out.read_text())
    entry = report["free_energies"]["major->minor"]
    p_minor = minor_mode_fraction(1.0)
    exact = -math.log(p_minor / (1.0 - p_minor))
    # 4 standard errors: false-failure probability 6e-5.
    assert abs(entry["value_kT"] - exact) < 4 * entry["sem_kT"]
    assert report["trusted"] and report["ess"] > report["ess_required"]
    # log Z_B of double_well_2d: ∫ e^{-u(x0)} dx0 (quadrature) times sqrt(2π).
    from scipy import integrate

    from systems.double_well import _bimodal_energy_numpy

    z0 = integrate.quad(lambda t: math.exp(-_bimodal_energy_numpy(t)), -np.inf, np.inf)[0]
    log_z = report["log_z"]
    assert abs(log_z["value"] - (math.log(z0) + 0.5 * math.log(2 * math.pi))) < 4 * log_z["stderr"]


def test_poor_overlap_exits_1_without_a_number(tmp_path, capsys):
    samples = double_well_samples(tmp_path / "narrow.npz", 2_000, 2.5, 0.1, seed=1)
    out = tmp_path / "fe.json"
    status, text, _ = _run(
        ["free-energy", str(samples), "--states", "major", "minor", "--json", str(out)], capsys
    )
    assert status == 1
    assert "too few effective samples" in text
    entry = json.loads(out.read_text())["free_energies"]["major->minor"]
    assert entry["value_kT"] is None and entry["trusted"] is False


def test_a_withheld_population_of_the_default_states_exits_1(tmp_path, capsys):
    """Samples of the major well only (46 of 4000 in the minor mode): log Z is given, the
    minor population is withheld, so the shown result is refused, as with --states (it
    used to print 'trusted' and exit 0)."""
    samples = double_well_samples(tmp_path / "major.npz", 4_000, -1.0, 0.45, seed=1)
    out = tmp_path / "fe.json"
    status, text, _ = _run(["free-energy", str(samples), "--json", str(out)], capsys)
    report = json.loads(out.read_text())
    assert report["log_z"]["trusted"] and not report["populations"]["minor"]["trusted"]
    assert status == 1 and not report["trusted"]
    assert "result: refused" in text


def test_bad_input_exits_2(toy_samples, tmp_path, capsys):
    status, _, error = _run(["free-energy", str(tmp_path / "missing.npz")], capsys)
    assert status == 2 and "missing.npz: samples file not found" in error
    status, _, error = _run(["free-energy", str(toy_samples), "--states", "major", "x"], capsys)
    assert status == 2 and "state 'x': unknown" in error
    status, _, error = _run(["free-energy", str(toy_samples), "--states", "major", "major"], capsys)
    assert status == 2 and "--states: 'major' given twice" in error
    status, _, error = _run(["free-energy", str(toy_samples), "--perturb-system", "butane"], capsys)
    assert status == 2 and "needs --variant (its variants: default, lipid)" in error
    status, _, error = _run(["free-energy", str(toy_samples), "--variant", "lipid"], capsys)
    assert status == 2 and "--variant applies to --perturb-system" in error
    np.savez(tmp_path / "broken.npz", modes=np.zeros(3, dtype=np.int64))
    status, _, error = _run(["free-energy", str(tmp_path / "broken.npz")], capsys)
    assert status == 2 and "needs 'log_w'" in error and "Traceback" not in error


def _openmm_reduced_energies(psf: Path, prm: list[Path], frames: np.ndarray) -> np.ndarray:
    from forcefields.openmm_oracle import OpenMMOracle

    energies, _ = OpenMMOracle(psf, prm).total(frames)
    return systems.load("butane").beta * energies


def _scaled_dihedrals(source: Path, target: Path, factor: float) -> Path:
    """A copy of a CHARMM prm with every proper-dihedral force constant times ``factor``."""
    lines, section = [], None
    for line in source.read_text().splitlines():
        words = line.split()
        if (
            words
            and words[0].isupper()
            and len(words) == 1
            or line.startswith(
                ("BONDS", "ANGLES", "DIHEDRALS", "IMPROPER", "NONBONDED", "CMAP", "END")
            )
        ):
            section = words[0] if words else section
        elif section == "DIHEDRALS" and len(words) >= 7 and not line.startswith("!"):
            words[4] = f"{float(words[4]) * factor:.5f}"
            line = "  ".join(words)
        lines.append(line)
    target.write_text("\n".join(lines) + "\n")
    return target


def test_butane_lipid_perturbation_matches_openmm(
    butane_samples, butane_md_frames, tmp_path, capsys
):
    out = tmp_path / "lipid.json"
    arguments = [
        "free-energy",
        str(butane_samples),
        "--system",
        "butane",
        "--perturb-system",
        "butane",
        "--variant",
        "lipid",
        "--states",
        "trans",
        "gauche=gauche+,gauche-",
        "--correlated",
        "--json",
        str(out),
    ]
    status, text, _ = _run(arguments, capsys)
    assert status == 1, text  # the state free energy is refused, see below
    report = json.loads(out.read_text())["perturbation"]
    default, lipid = charmm_files("butane"), charmm_files("butane", "lipid")
    delta_u = _openmm_reduced_energies(lipid.psf, [lipid.prm], butane_md_frames) - (
        _openmm_reduced_energies(default.psf, [default.prm], butane_md_frames)
    )
    expected = -(logsumexp(-delta_u) - math.log(delta_u.size))
    # Torch and OpenMM energies agree to ~1e-9 kJ/mol in float64 (forcefields tests);
    # 1e-6 kT leaves a wide margin for the summation order.
    assert report["delta_f"]["value_kT"] == pytest.approx(expected, abs=1e-6)
    # The lipid set changes butane's energy little: as independent samples the frames
    # would keep over 90 % of their weight (measured 99 %); correlated MD frames keep
    # fewer effective samples, still above the threshold.
    assert kish_ess(-delta_u) > 0.9 * delta_u.size
    assert report["ess_perturbed"] <= kish_ess(-delta_u) + 1e-9
    assert report["ess_perturbed"] > json.loads(out.read_text())["ess_required"]
    assert report["delta_f"]["trusted"]
    # The state free energy is refused: of three 30 ps chains one never leaves gauche-
    # and the others cross once or twice, so the trans/gauche indicator decorrelates over
    # ~50 frames and the 450 frames hold about 8 effective samples (fewer than 50).
    assert set(report["free_energies_variant"]) == {"trans->gauche"}
    trans_gauche = report["free_energies_variant"]["trans->gauche"]
    assert not trans_gauche["trusted"]
    assert "too few effective samples: ESS" in trans_gauche["reason"]


def test_scaled_dihedrals_are_reported_as_untrustworthy(butane_samples, tmp_path, capsys):
    default = charmm_files("butane")
    scaled = _scaled_dihedrals(default.prm, tmp_path / "scaled.prm", DIHEDRAL_SCALE)
    out = tmp_path / "scaled.json"
    arguments = [
        "free-energy",
        str(butane_samples),
        "--system",
        "butane",
        "--perturb",
        str(default.psf),
        "--prm",
        str(scaled),
        "--states",
        "trans",
        "gauche=gauche+,gauche-",
        "--correlated",
        "--json",
        str(out),
    ]
    status, text, _ = _run(arguments, capsys)
    assert status == 1
    assert "too few effective samples" in text
    variant = json.loads(out.read_text())["perturbation"]
    assert variant["delta_f"]["value_kT"] is None
    assert variant["free_energies_variant"]["trans->gauche"]["value_kT"] is None
    assert variant["ess_perturbed"] < 50
    # a few frames carry the perturbed weights: their tail is heavy and named as such
    assert variant["pareto_k_perturbed"] > 0.5
    assert "warning: perturbed weights: Pareto k" in text
