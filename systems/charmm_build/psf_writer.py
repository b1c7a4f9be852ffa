"""Write a CHARMM psf in the extended XPLOR format (``PSF EXT CMAP XPLOR``).

Atom types are written by name (XPLOR style), so the psf needs no RTF. Column formats
follow CHARMM's extended psf: atoms ``(I10,1X,A8,1X,A8,1X,A8,1X,A8,1X,A6,1X,2G14.6,I8)``,
index lists ``I10`` with 8 (bonds, dihedrals, impropers), 9 (angles, groups) or 8 (one
CMAP) numbers a line. Donor/acceptor lists are empty and the whole residue is one group
(the ffxml carries no RTF ``GROUP`` information); neither affects the energy.
"""

from __future__ import annotations

from collections.abc import Sequence

from systems.charmm_build.charmm_model import CharmmTopology
from systems.charmm_build.number_text import fortran_g14_6

__all__ = ["psf_text"]

_NEUTRAL_GROUP_WITH_CHARGES = 1


def psf_text(topology: CharmmTopology, title: Sequence[str]) -> str:
    """The psf file of ``topology`` with ``title`` lines (written after ``*``)."""
    lines = ["PSF EXT CMAP XPLOR", ""]
    lines += _section(len(title), "NTITLE", [f"* {line}".rstrip() for line in title])
    lines += _section(len(topology.atoms), "NATOM", _atom_lines(topology))
    lines += _index_section(topology.bonds, "NBOND: bonds", per_line=4)
    lines += _index_section(topology.angles, "NTHETA: angles", per_line=3)
    lines += _index_section(topology.dihedrals, "NPHI: dihedrals", per_line=2)
    lines += _index_section(topology.impropers, "NIMPHI: impropers", per_line=2)
    lines += _index_section((), "NDON: donors", per_line=4)
    lines += _index_section((), "NACC: acceptors", per_line=4)
    lines += [_pointer(0, "NNB"), ""]
    lines += _integer_lines([0] * len(topology.atoms), per_line=8) + [""]
    group = [(0, _NEUTRAL_GROUP_WITH_CHARGES, 0)]
    lines += [f"{1:10d}{0:10d} !NGRP NST2"] + _integer_lines(_flatten(group), 9) + [""]
    lines += [f"{0:10d}{0:10d} !NUMLP NUMLPH", ""]
    lines += _index_section(topology.cmaps, "NCRTERM: cross-terms", per_line=1)
    return "\n".join(lines) + "\n"


def _atom_lines(topology: CharmmTopology) -> list[str]:
    return [
        f"{number:10d} {topology.segment:<8s} {'1':<8s} {topology.residue:<8s} "
        f"{atom.name:<8s} {atom.charmm_type:<6s} "
        f"{fortran_g14_6(atom.charge)}{fortran_g14_6(atom.mass)}{0:8d}"
        for number, atom in enumerate(topology.atoms, start=1)
    ]


def _pointer(count: int, title: str) -> str:
    return f"{count:10d} !{title}"


def _section(count: int, title: str, body: list[str]) -> list[str]:
    return [_pointer(count, title), *body, ""]


def _index_section(rows: Sequence[Sequence[int]], title: str, per_line: int) -> list[str]:
    """A section of 1-based index tuples, ``per_line`` tuples a line."""
    numbers = [index + 1 for row in rows for index in row]
    width = len(rows[0]) if rows else 1
    body = _integer_lines(numbers, per_line * width) if rows else [""]
    return _section(len(rows), title, body)


def _integer_lines(numbers: Sequence[int], per_line: int) -> list[str]:
    return [
        "".join(f"{number:10d}" for number in numbers[start : start + per_line])
        for start in range(0, len(numbers), per_line)
    ]


def _flatten(rows: Sequence[Sequence[int]]) -> list[int]:
    return [value for row in rows for value in row]
