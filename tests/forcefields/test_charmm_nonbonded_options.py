"""E14FAC and NBXMOD come from the NONBONDED headers only; the last file setting them wins;
another dielectric than a constant 1, and the geometric combining rule, are refused."""

import numpy as np
import pytest
import torch

import forcefields
from forcefields.errors import InputFileError
from forcefields.openmm_oracle import OpenMMOracle
from forcefields.units import COULOMB_CONSTANT
from forcefields.validation import compare_with_openmm
from systems.files import charmm_files
from tests.forcefields.conftest import perturbed_frames

BUTANE = charmm_files("butane")
HEADER = "NONBONDED nbxmod  5 atom cdiel fshift vatom vdistance vfswitch -\n"
CONTINUATION = "cutnb 14.0 ctofnb 12.0 ctonnb 10.0 eps 1.0 e14fac 1.0 wmin 1.5\n"


def butane_prm(tmp_path, text: str, name: str = "modified.prm"):
    path = tmp_path / name
    path.write_text(text)
    return path


def charge_products(prm) -> tuple[np.ndarray, np.ndarray]:
    """Nonbonded pair charge products (e²) and the 1-4 mask of butane with ``prm``."""
    parameters = forcefields.read_charmm(BUTANE.psf, prm)
    return parameters.pair_charge_product, parameters.pair_is_14


def test_e14fac_in_a_comment_is_ignored(tmp_path):
    text = BUTANE.prm.read_text().replace("BONDS\n", "! note: e14fac 0.5\nBONDS\n")
    reference, _ = charge_products(BUTANE.prm)
    modified, _ = charge_products(butane_prm(tmp_path, text))
    np.testing.assert_array_equal(modified, reference)


def test_e14fac_on_a_continuation_line_after_a_comment(tmp_path):
    header = HEADER.replace("-\n", "- ! e14fac 0.2\n") + CONTINUATION.replace(
        "1.0 wmin", "0.5 wmin"
    )
    text = BUTANE.prm.read_text().replace(HEADER + CONTINUATION, header)
    reference, is_14 = charge_products(BUTANE.prm)
    modified, _ = charge_products(butane_prm(tmp_path, text))
    assert is_14.any()
    np.testing.assert_array_equal(modified[~is_14], reference[~is_14])
    np.testing.assert_allclose(modified[is_14], 0.5 * reference[is_14], rtol=1e-15)


def test_last_file_setting_e14fac_wins(tmp_path):
    first = butane_prm(
        tmp_path, "* sets e14fac only\n*\n\nNONBONDED e14fac 0.5\n\nEND\n", "first.prm"
    )
    prm = [first, BUTANE.prm]
    reference, _ = charge_products(BUTANE.prm)
    modified, _ = charge_products(prm)
    np.testing.assert_array_equal(modified, reference)
    # OpenMM's CharmmParameterSet also keeps the last E14FAC; the float64 round-off
    # tolerance of the bundled-system tests applies.
    frames = perturbed_frames(BUTANE.pdb, (0.01,), per_scale=5, seed=5)
    energy = forcefields.load(BUTANE.psf, prm, dtype=torch.float64)
    report = compare_with_openmm(energy, OpenMMOracle(BUTANE.psf, prm), frames, 1e-8, 1e-8)
    assert report.passed, report.table()


@pytest.mark.parametrize("value", ["3", "-5", "five"])
def test_nbxmod_other_than_5_is_refused(tmp_path, value):
    text = BUTANE.prm.read_text().replace("nbxmod  5", f"NBXMOD {value}")
    prm = butane_prm(tmp_path, text)
    with pytest.raises(
        InputFileError, match=rf"modified.prm: NONBONDED header at line \d+: NBXMOD {value} "
    ):
        forcefields.read_charmm(BUTANE.psf, prm)


def test_option_without_value_is_refused(tmp_path):
    text = BUTANE.prm.read_text().replace("e14fac 1.0 wmin 1.5", "wmin 1.5 e14fac")
    with pytest.raises(
        InputFileError, match=r"modified.prm: NONBONDED header .*e14fac has no value"
    ):
        forcefields.read_charmm(BUTANE.psf, butane_prm(tmp_path, text))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("eps 1.0", "eps 4.0", "EPS 4.0 is not supported"),
        ("eps 1.0", "EPS eighty", "EPS eighty is not supported"),
        ("cdiel", "rdiel", "RDIEL .* is not supported"),
        ("atom cdiel", "geom atom cdiel", "GEOM .* is not supported"),
    ],
)
def test_another_dielectric_is_refused(tmp_path, old, new, message):
    # used to be ignored: EPS 4.0 gave the Coulomb energy of EPS 1.0; GEOM gave the
    # arithmetic-rule Lennard-Jones energy (-2.477 kJ/mol at the minimised butane where
    # the geometric rule gives -2.726)
    text = BUTANE.prm.read_text().replace(old, new)
    where = r"modified.prm: NONBONDED header at line \d+: "
    with pytest.raises(InputFileError, match=where + message):
        forcefields.read_charmm(BUTANE.psf, butane_prm(tmp_path, text))


def test_a_dielectric_of_one_is_accepted_and_changes_nothing(tmp_path):
    text = BUTANE.prm.read_text().replace("eps 1.0", "EPS 1")
    frames = perturbed_frames(BUTANE.pdb, (0.01,), per_scale=3, seed=2)
    written = _coulomb(butane_prm(tmp_path, text), frames)
    np.testing.assert_array_equal(written, _coulomb(BUTANE.prm, frames))


def _first_line_e14fac(value: str) -> str:
    """butane.prm with ``E14FAC value`` on the header's first line (where OpenMM reads it)."""
    text = BUTANE.prm.read_text()
    assert HEADER + CONTINUATION in text
    header = HEADER.replace("nbxmod  5", f"nbxmod  5 e14fac {value}")
    return text.replace(HEADER + CONTINUATION, header + CONTINUATION.replace("e14fac 1.0 ", ""))


def _coulomb(prm, frames: np.ndarray) -> np.ndarray:
    energy = forcefields.load(BUTANE.psf, prm, dtype=torch.float64)
    return energy.terms(torch.as_tensor(frames))["coulomb"].numpy()


def test_e14fac_zero_removes_exactly_the_14_coulomb(tmp_path):
    # Used to be refused: parmed divides by E14FAC ("float division by zero").
    frames = perturbed_frames(BUTANE.pdb, (0.01,), per_scale=5, seed=6)
    prm = butane_prm(tmp_path, _first_line_e14fac("0.0"))
    parameters = forcefields.read_charmm(BUTANE.psf, BUTANE.prm)
    i, j = parameters.pair_indices[parameters.pair_is_14].T
    r = np.linalg.norm(frames[:, i] - frames[:, j], axis=-1)
    q = parameters.charges
    pairs = COULOMB_CONSTANT * q[i] * q[j] / r
    assert np.abs(pairs).sum(axis=1).min() > 10.0  # 1-4 pairs of several kJ/mol each
    direct = pairs.sum(axis=1)
    # Both sides sum ~30 float64 terms of <= 100 kJ/mol: round-off ~1e-13 kJ/mol.
    difference = _coulomb(BUTANE.prm, frames) - _coulomb(prm, frames)
    np.testing.assert_allclose(difference, direct, rtol=1e-10, atol=1e-10)
    # OpenMM reads E14FAC from the header's first line; the float64 round-off
    # tolerance of the bundled-system tests applies.
    energy = forcefields.load(BUTANE.psf, prm, dtype=torch.float64)
    report = compare_with_openmm(energy, OpenMMOracle(BUTANE.psf, prm), frames, 1e-8, 1e-8)
    assert report.passed, report.table()


def test_a_later_file_changing_e14fac_wins(tmp_path):
    # Used to be refused: parmed checks later E14FACs against the first ("Inconsistent 1-4
    # scalings") once dihedrals are read.
    second = butane_prm(
        tmp_path, "* sets e14fac only\n*\n\nNONBONDED e14fac 0.5\n\nEND\n", "second.prm"
    )
    prm = [BUTANE.prm, second]
    reference, is_14 = charge_products(BUTANE.prm)
    modified, _ = charge_products(prm)
    np.testing.assert_array_equal(modified[~is_14], reference[~is_14])
    np.testing.assert_allclose(modified[is_14], 0.5 * reference[is_14], rtol=1e-15)
    frames = perturbed_frames(BUTANE.pdb, (0.01,), per_scale=5, seed=7)
    energy = forcefields.load(BUTANE.psf, prm, dtype=torch.float64)
    report = compare_with_openmm(energy, OpenMMOracle(BUTANE.psf, prm), frames, 1e-8, 1e-8)
    assert report.passed, report.table()


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            ["NONBONDED nbxmod 5 E14FAC 0.5 atom -", "cutnb 14.0 e14fac 0.0 -", "wmin 1.5"],
            ["NONBONDED nbxmod 5            atom -", "cutnb 14.0            -", "wmin 1.5"],
        ),
        (
            ["NONB e14f 1.0-", "  eps 1.0  ! e14fac 0.3", "HGA2 0.0 -0.035 1.34"],
            ["NONB" + " " * 9 + "-", "  eps 1.0  ! e14fac 0.3", "HGA2 0.0 -0.035 1.34"],
        ),
        (
            ["BONDS", "E14FAC 2.0", "NONBONDED -", "E14FAC -", "0.5"],
            ["BONDS", "E14FAC 2.0", "NONBONDED -", "       -", "   "],
        ),
    ],
)
def test_without_e14fac_blanks_only_the_header_option(lines, expected):
    from forcefields.charmm_nonbonded_options import without_e14fac

    # parmed reads these copies: same lines, same columns, no E14FAC in any header
    assert without_e14fac(lines) == expected
