"""Terms parmed lets pass silently are refused; parmed's messages name psf atoms 1-based."""

import pytest

import forcefields
from forcefields.errors import InputFileError, MissingParameterError
from forcefields.openmm_oracle import OpenMMOracle
from systems.files import charmm_files

DIALANINE = charmm_files("dialanine")
BUTANE = charmm_files("butane")
FORWARD = "         5         7         9        15         7         9        15        17"
BACKWARD = "        17        15         9         7        15         9         7         5"
CT3_CT1_C_O = "CT3    CT1    C      O          1.4000   1       0.00"


def test_cmap_cross_term_listed_backwards_is_refused(tmp_path):
    # Used to load with the map's φ and ψ swapped: parmed keys a CMAP under both orders
    # with the same (untransposed) grid; CMAP 0.51 instead of 1.51 kJ/mol at the
    # minimised structure. OpenMM refuses such a psf too.
    text = DIALANINE.psf.read_text()
    assert FORWARD in text
    psf = tmp_path / "backwards.psf"
    psf.write_text(text.replace(FORWARD, BACKWARD))
    message = (
        r"backwards.psf: cross-term 1 \(psf atoms 17 NR \(NH1\) - 15 CRP \(C\) .* - 5 CLP "
        r"\(C\)\): its atom types match the CMAP line 'C NH1 CT1 C NH1 CT1 C NH1' of "
        r".*dialanine.prm only read backwards"
    )
    with pytest.raises(MissingParameterError, match=message):
        forcefields.read_charmm(psf, DIALANINE.prm)
    with pytest.raises(InputFileError, match="No CMAP parameters"):
        OpenMMOracle(psf, DIALANINE.prm)


def test_cmap_line_written_backwards_matches_a_psf_listed_backwards(tmp_path):
    # The direction that counts is the psf's relative to the CMAP line: both reversed
    # is the same map with its torsions renamed, so the term is accepted.
    psf = tmp_path / "backwards.psf"
    psf.write_text(DIALANINE.psf.read_text().replace(FORWARD, BACKWARD))
    prm = tmp_path / "backwards.prm"
    header = "C      NH1    CT1    C      NH1    CT1    C      NH1      24"
    text = DIALANINE.prm.read_text()
    assert header in text
    prm.write_text(text.replace(header, "NH1 C CT1 NH1 C CT1 NH1 C 24"))
    assert len(forcefields.read_charmm(psf, prm).cmap.indices) == 1


def test_dihedral_multiplicity_zero_is_refused(tmp_path):
    # Used to load as the constant k (1 + cos δ) = 11.63 kJ/mol where CHARMM's harmonic
    # dihedral k (φ - δ)² gives 0.03 to 23.9 kJ/mol on perturbed frames.
    text = DIALANINE.prm.read_text()
    assert CT3_CT1_C_O in text
    prm = tmp_path / "n0.prm"
    prm.write_text(text.replace(CT3_CT1_C_O, "CT3    CT1    C      O          1.4000   0   10.00"))
    message = (
        r"n0.prm: the DIHEDRALS parameter of CT3 CT1 C O \(for psf atoms 11 CB \(CT3\) - "
        r"9 CA \(CT1\) - 15 CRP \(C\) - 16 OR \(O\)\): multiplicity 0 .* is not supported"
    )
    with pytest.raises(InputFileError, match=message):
        forcefields.read_charmm(DIALANINE.psf, prm)
    # OpenMM's "periodicity must be positive" used to escape as a raw OpenMMException.
    with pytest.raises(InputFileError, match=r"dialanine.psf \+ .*n0.prm: OpenMM cannot build"):
        OpenMMOracle(DIALANINE.psf, prm)


@pytest.mark.parametrize(
    ("old", "message"),
    [
        (
            "CG321  CG321  CG331       58.00     115.00       8.00    2.56100\n",
            r"Missing angle type for Angle psf atom 4 C1 \(CG331\)--psf atom 7 C2 \(CG321\)--"
            r"psf atom 10 C3 \(CG321\)",
        ),
        (
            "CG321  CG321  CG331  HGA3       0.1600   3       0.00\n",
            r"No dihedral parameters found for Dihedral psf atom 1 H11 \(HGA3\)--psf atom 4 C1",
        ),
        ("MASS  -1  HGA2      1.00800 H\n", r"no MASS entry .* type HGA2 \(psf atom 5 H21\)"),
        (
            "HGA2   0.0    -0.0350     1.3400\n",
            r"no NONBONDED .* for atom type HGA2 \(psf atom 5 H21\)",
        ),
    ],
)
@pytest.mark.filterwarnings("ignore:Atom type HGA2 not present")
def test_missing_parameters_name_psf_atoms_one_based(tmp_path, old, message):
    # parmed's messages used to name parmed's 0-based index: "<Atom C1 [3]; ...>"
    text = BUTANE.prm.read_text()
    assert old in text
    prm = tmp_path / "missing.prm"
    prm.write_text(text.replace(old, ""))
    with pytest.raises(MissingParameterError, match=r"butane.psf \+ .*missing.prm: " + message):
        forcefields.read_charmm(BUTANE.psf, prm)
