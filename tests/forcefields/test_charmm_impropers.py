"""Improper parameters are looked up in CHARMM's order (exact, then wildcard forms).

The files are butane's with one improper added to the psf, C2-C3-C1-H21 (types
CG321 CG321 CG331 HGA2, central atom first), and IMPROPER lines added to the prm.
"""

import numpy as np
import pytest
import torch

import forcefields
from forcefields.errors import InputFileError, MissingParameterError
from forcefields.openmm_oracle import OpenMMOracle
from forcefields.units import DEG_TO_RAD, KCAL_TO_KJ
from forcefields.validation import compare_with_openmm
from systems.files import charmm_files
from tests.forcefields.conftest import perturbed_frames

BUTANE = charmm_files("butane")
IMPROPER = "7 10 4 5"  # C2 C3 C1 H21: CG321 CG321 CG331 HGA2
OTHER_ORDER = "CG321 CG331 CG321 HGA2 10.0 0 30.0"  # the same types, not CHARMM's order
WILDCARD = "CG321 X X HGA2 5.0 0 0.0"  # form A X X D


def butane_with_improper(tmp_path, improper_lines: list[str]):
    """psf and prm paths of butane plus the improper ``IMPROPER`` and ``improper_lines``."""
    psf = tmp_path / "improper.psf"
    psf.write_text(
        BUTANE.psf.read_text().replace(
            "         0 !NIMPHI: impropers\n\n",
            f"         1 !NIMPHI: impropers\n {IMPROPER}\n",
        )
    )
    prm = tmp_path / "improper.prm"
    prm.write_text(
        BUTANE.prm.read_text().replace(
            "psi0: deg\n", "psi0: deg\n" + "\n".join(improper_lines) + "\n"
        )
    )
    return psf, prm


def improper_parameters(psf, prm) -> tuple[float, float]:
    """(k kcal/mol/rad², ψ0 degrees) of the one improper."""
    parameters = forcefields.read_charmm(psf, prm)
    assert parameters.improper_indices.tolist() == [[6, 9, 3, 4]]
    return parameters.improper_k[0] / KCAL_TO_KJ, parameters.improper_psi0[0] / DEG_TO_RAD


def assert_matches_openmm(psf, prm):
    # Both codes evaluate the same harmonic improper in double precision: the float64
    # round-off tolerance of the bundled-system tests (test_energy_vs_openmm) applies.
    frames = perturbed_frames(BUTANE.pdb, (0.01, 0.05), per_scale=10, seed=4)
    energy = forcefields.load(psf, prm, dtype=torch.float64)
    report = compare_with_openmm(energy, OpenMMOracle(psf, prm), frames, 1e-8, 1e-8)
    assert report.passed, report.table()
    assert report.terms["improper"].max_abs < 1e-8


def test_wildcard_form_beats_a_line_in_another_order(tmp_path):
    psf, prm = butane_with_improper(tmp_path, [OTHER_ORDER, WILDCARD])
    assert improper_parameters(psf, prm) == pytest.approx((5.0, 0.0))
    assert_matches_openmm(psf, prm)


def test_reversed_exact_line_beats_wildcards(tmp_path):
    psf, prm = butane_with_improper(tmp_path, [WILDCARD, "HGA2 CG331 CG321 CG321 8.0 0 10.0"])
    assert improper_parameters(psf, prm) == pytest.approx((8.0, 10.0))
    assert_matches_openmm(psf, prm)


def test_a_x_x_d_beats_x_b_c_d(tmp_path):
    """CHARMM's precedence (OpenMM tries X B C D first, so no oracle here)."""
    psf, prm = butane_with_improper(tmp_path, ["X CG321 CG331 HGA2 7.0 0 0.0", WILDCARD])
    assert improper_parameters(psf, prm) == pytest.approx((5.0, 0.0))


def test_no_matching_form_names_the_psf_improper(tmp_path):
    psf, prm = butane_with_improper(tmp_path, [OTHER_ORDER])
    with pytest.raises(
        MissingParameterError,
        match=r"improper.psf: improper 1 \(7 C2 \(CG321\)-10 C3 \(CG321\)-4 C1 \(CG331\)-5 H21 "
        r"\(HGA2\)\): no IMPROPER parameter in .*improper.prm",
    ):
        forcefields.read_charmm(psf, prm)
    with pytest.raises(InputFileError, match="No improper parameters found"):
        OpenMMOracle(psf, prm)


def test_periodic_improper_is_a_cosine_term_and_the_oracle_refuses_it(tmp_path):
    psf, prm = butane_with_improper(tmp_path, ["CG321 X X HGA2 2.0 2 180.0"])
    parameters = forcefields.read_charmm(psf, prm)
    assert len(parameters.improper_k) == 0
    periodic = np.flatnonzero((parameters.dihedral_indices == [6, 9, 3, 4]).all(axis=1))
    assert len(periodic) == 1
    row = periodic[0]
    assert parameters.dihedral_periodicity[row] == 2
    assert parameters.dihedral_k[row] == pytest.approx(2.0 * KCAL_TO_KJ)
    assert parameters.dihedral_phase[row] == pytest.approx(np.pi)
    with pytest.raises(InputFileError, match=r"improper.prm: periodic improper .*harmonic"):
        OpenMMOracle(psf, prm)


def test_conflicting_duplicate_lines_are_refused(tmp_path):
    psf, prm = butane_with_improper(
        tmp_path, ["CG321 X X HGA2 5.0 0 0.0", "HGA2 X X CG321 6.0 0 0.0"]
    )
    with pytest.raises(InputFileError, match=r"improper.prm: IMPROPER .* given twice"):
        forcefields.read_charmm(psf, prm)


def test_improper_at_180_degrees_matches_openmm_on_both_sides(tmp_path):
    """ψ0 = 180°: frames on both sides of the minimum (the mirror image flips the sign of
    every improper angle), so both branches of OpenMM's ``min(dψ, 2π - dψ)`` are used."""
    psf, prm = butane_with_improper(tmp_path, ["CG321 X X HGA2 5.0 0 180.0"])
    frames = perturbed_frames(BUTANE.pdb, (0.01, 0.05), per_scale=10, seed=4)
    frames = np.concatenate([frames, frames * [-1.0, 1.0, 1.0]])
    energy = forcefields.load(psf, prm, dtype=torch.float64)
    # Both codes evaluate the same harmonic improper in double precision (as above).
    report = compare_with_openmm(energy, OpenMMOracle(psf, prm), frames, 1e-8, 1e-8)
    assert report.passed, report.table()
