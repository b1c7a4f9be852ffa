"""Lone pairs, Drude particles and other massless sites are refused, not treated as atoms.

Each psf is butane's plus a 15th particle after C4; the prm gains its atom type
(mass, Lennard-Jones parameters) so that only the virtual site itself is wrong.
"""

import pytest

import forcefields
from forcefields.errors import InputFileError
from systems.files import charmm_files

BUTANE = charmm_files("butane")


def butane_with_site(
    tmp_path, atom_line: str, psf_flags: str = "", tail: str = "", parent_tail: str = ""
) -> tuple:
    """psf/prm paths of butane plus the atom ``atom_line`` (its columns from the name on).

    ``psf_flags`` extends the psf's first line; ``tail`` is appended to atom lines
    1-13 and ``parent_tail`` to that of C4 (a Drude psf's alpha and thole columns).
    """
    lines = BUTANE.psf.read_text().splitlines()
    lines[0] += psf_flags
    start = lines.index("        14 !NATOM")
    lines[start] = "        15 !NATOM"
    for number in range(start + 1, start + 14):
        lines[number] += tail
    lines[start + 14] += parent_tail
    lines.insert(start + 15, f"        15 MOL      1        BUTA     {atom_line}")
    psf = tmp_path / "site.psf"
    psf.write_text("\n".join(lines) + "\n")
    prm = tmp_path / "site.prm"
    text = BUTANE.prm.read_text()
    text = text.replace(
        "MASS  -1  HGA3",
        "MASS  -1  LP        0.00000 H\nMASS  -1  DRUD      0.40000 H\nMASS  -1  HGA3",
    )
    text = text.replace(
        "\nEND", "LP     0.0    -0.0000     0.0000\nDRUD   0.0    -0.0000     0.0000\n\nEND"
    )
    prm.write_text(text)
    return psf, prm


def test_massless_lone_pair_is_refused(tmp_path):
    psf, prm = butane_with_site(tmp_path, "LP1      LP      -0.100000       0.00000           0")
    with pytest.raises(
        InputFileError,
        match=r"site.psf: atom 15 \(LP1, mass 0.0\).*virtual sites are not supported",
    ):
        forcefields.read_charmm(psf, prm)


def test_lone_pair_section_is_refused(tmp_path):
    psf, prm = butane_with_site(tmp_path, "LP1      LP      -0.100000       0.00000           0")
    psf.write_text(
        psf.read_text().replace(
            "         0         0 !NUMLP NUMLPH\n",
            "         1         3 !NUMLP NUMLPH\n"
            "         2         1   F  -0.35000       0.00000       0.00000\n"
            "        15        14        10\n",
        )
    )
    with pytest.raises(InputFileError, match=r"site.psf: line \d+: !NUMLP declares 1 lone pair"):
        forcefields.read_charmm(psf, prm)


def test_drude_particle_is_refused(tmp_path):
    """A Drude particle has a mass (here 0.4 amu): parmed's particle class identifies it."""
    psf, prm = butane_with_site(
        tmp_path,
        "DC4      DRUD     0.000000       0.40000           0  0.000  0.000",
        psf_flags=" DRUDE",
        tail="  0.000  0.000",
        parent_tail="  1.000  2.000",
    )
    psf.write_text(
        psf.read_text().replace(
            "         0 !NCRTERM", "         0 !NUMANISO\n\n\n         0 !NCRTERM"
        )
    )
    with pytest.raises(
        InputFileError, match=r"site.psf: atom 15 \(DC4, mass 0.4\): a lone pair, Drude"
    ):
        forcefields.read_charmm(psf, prm)
