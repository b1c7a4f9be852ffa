"""Malformed parameter-file entries are refused with the file and line named."""

import pytest

import forcefields
from forcefields.charmm_prm_scan import scan_parameter_file
from forcefields.errors import InputFileError
from systems.files import charmm_files

BUTANE = charmm_files("butane")
DIALANINE = charmm_files("dialanine")
BOND = "CG321  CG321      222.50     1.5300"
ANGLE = "CG321  CG321  CG331       58.00     115.00       8.00    2.56100"
DIHEDRAL = "CG321  CG321  CG331  HGA3       0.1600   3       0.00"
LJ = "HGA2   0.0    -0.0350     1.3400"


def _line_of(text: str, content: str) -> int:
    """1-based number of the line of ``text`` that holds ``content``."""
    return next(n for n, line in enumerate(text.splitlines(), start=1) if content in line)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # each used to be parmed's message without a line: "Could not parse bonds." ...
        (BOND, "CG321  CG321      222.50", r"BONDS entry needs 4 fields \(2 atom types, "),
        (DIHEDRAL, DIHEDRAL[:-4], r"DIHEDRALS entry needs 7 fields"),
        (LJ, LJ[:-7], r"NONBONDED entry needs 4 fields"),  # was "list index out of range"
        # ... or the line numbered by parmed's count of logical lines, 0-based
        (BOND, BOND.replace("222.50", "2x2.50"), r"BONDS force constant '2x2.50' is not a"),
        (LJ, LJ.replace("-0.0350", "-0.03x0"), r"NONBONDED epsilon '-0.03x0' is not a number"),
        # each used to load: the multiplicity truncated to 2, the Urey-Bradley term dropped
        (DIHEDRAL, DIHEDRAL.replace(" 3 ", " 2.5 "), r"DIHEDRALS multiplicity '2.5' is not an"),
        (ANGLE, ANGLE[:-8], r"ANGLES entry needs 7 fields .*Urey-Bradley length"),
    ],
)
def test_malformed_entry_names_file_and_line(tmp_path, old, new, message):
    text = BUTANE.prm.read_text()
    assert old in text
    prm = tmp_path / "malformed.prm"
    prm.write_text(text.replace(old, new))
    where = rf"malformed.prm: line {_line_of(text, old)}: "
    with pytest.raises(InputFileError, match=where + message):
        forcefields.read_charmm(BUTANE.psf, prm)


def test_truncated_cmap_grid_names_its_header_line(tmp_path):
    # used to be "CMAP grid does not match expected resolution", without file or line
    text = DIALANINE.prm.read_text()
    header = "C      NH1    CT1    C      NH1    CT1    C      NH1      24"
    lines = text.splitlines()
    start = _line_of(text, header)
    prm = tmp_path / "cmap.prm"
    prm.write_text("\n".join(lines[: start + 20] + lines[start + 30 :]) + "\n")
    with pytest.raises(
        InputFileError, match=rf"cmap.prm: line {start}: CMAP of resolution 24 needs 576 values"
    ):
        forcefields.read_charmm(DIALANINE.psf, prm)


def test_a_cmap_resolution_written_as_a_decimal_names_its_line(tmp_path):
    # "24.0" passed the integer check and then failed in int() with a bare ValueError
    text = DIALANINE.prm.read_text()
    header = "C      NH1    CT1    C      NH1    CT1    C      NH1      24"
    prm = tmp_path / "cmap.prm"
    prm.write_text(text.replace(header, header + ".0"))
    with pytest.raises(
        InputFileError, match=rf"cmap.prm: line {_line_of(text, header)}: CMAP header needs"
    ):
        forcefields.read_charmm(DIALANINE.psf, prm)


def test_a_word_among_cmap_values_is_named_at_its_line(tmp_path):
    # was read as the next header: "line <header>: ... needs 576 values, got 0"
    text = DIALANINE.prm.read_text()
    lines = text.splitlines()
    first_values = _line_of(text, "!phi = -180.0")  # 0-based index of the line after it
    words = lines[first_values].split()
    lines[first_values] = lines[first_values].replace(words[0], "xyz", 1)
    prm = tmp_path / "cmap.prm"
    prm.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        InputFileError, match=rf"cmap.prm: line {first_values + 1}: CMAP value 'xyz' is not a"
    ):
        forcefields.read_charmm(DIALANINE.psf, prm)


def test_stream_file_scans_only_its_parameter_blocks(tmp_path):
    stream = tmp_path / "extra.str"
    stream.write_text(
        "* stream\n*\nread rtf card append\n* rtf\n*\n36 1\nBOND C1 C2 C2 C3\nEND\n\n"
        f"read para card flex append\n* para\n*\nDIHEDRALS\n{DIHEDRAL.replace(' 3 ', ' x ')}\n"
        "\nEND\n"
    )
    # the RTF's "BOND C1 C2 C2 C3" is no BONDS entry; the DIHEDRALS line is on line 14
    with pytest.raises(InputFileError, match=r"extra.str: line 14: DIHEDRALS multiplicity 'x'"):
        scan_parameter_file(stream)


def test_bundled_files_pass_and_give_their_cmap_as_written():
    assert scan_parameter_file(BUTANE.prm) == {}
    key = ("C", "NH1", "CT1", "C", "NH1", "CT1", "C", "NH1")
    assert scan_parameter_file(DIALANINE.prm) == {min(key, key[::-1]): key}
