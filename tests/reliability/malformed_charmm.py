"""A corpus of malformed CHARMM psf/prm pairs, generated from the bundled butane and dialanine.

Every :class:`MalformedPair` is one bad input: a psf and a prm text, which of the two is
at fault (the error message must name it), and what was done to it. Nothing here is a
valid force field: each edit removes or corrupts information the energy needs.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

from systems.files import charmm_files

__all__ = ["MalformedPair", "malformed_pairs"]

PRM_SECTIONS = ("ATOMS", "BONDS", "ANGLES", "DIHEDRALS", "IMPROPER", "CMAP", "NONBONDED", "END")
PARAMETER_SECTIONS = ("BONDS", "ANGLES", "DIHEDRALS", "IMPROPER", "CMAP", "NONBONDED")
REQUIRED_PSF_SECTIONS = ("NTITLE", "NATOM", "NBOND", "NTHETA", "NPHI", "NIMPHI", "NCRTERM")
ATOM_FIELD_EDITS = (
    (0, "x1"),
    (0, "1.5"),
    (6, "abc"),
    (6, "nan"),
    (6, "inf"),
    (7, "heavy"),
    (7, "-1.0"),
    (7, "nan"),
    (7, "1.0.0"),
)
_PSF_HEADER = re.compile(r"^\s*-?\d+(?:\s+-?\d+)*\s*!(N[A-Z]+)")


@dataclass(frozen=True)
class MalformedPair:
    """One bad psf/prm pair.

    Attributes:
        label: what was done (unique within the corpus).
        psf: psf text (or bytes).
        prm: prm text (or bytes).
        culprit: ``"psf"`` or ``"prm"``: the file the error message must name.
    """

    label: str
    psf: str | bytes
    prm: str | bytes
    culprit: str


def _psf_headers(lines: list[str]) -> list[tuple[int, str]]:
    return [(i, m.group(1)) for i, line in enumerate(lines) if (m := _PSF_HEADER.match(line))]


def _prm_headers(lines: list[str]) -> list[tuple[int, str]]:
    return [
        (i, line.split()[0])
        for i, line in enumerate(lines)
        if line.split() and line.split()[0] in PRM_SECTIONS
    ]


def _section_body(lines: list[str], start: int) -> range:
    """Line indices after the header at ``start`` up to the first blank line."""
    end = start + 1
    while end < len(lines) and lines[end].strip():
        end += 1
    return range(start + 1, end)


def _psf_truncations(name: str, psf: str, prm: str) -> Iterator[MalformedPair]:
    lines = psf.splitlines(keepends=True)
    headers = _psf_headers(lines)
    for index, section in headers:
        yield MalformedPair(
            f"{name}: psf cut before !{section}", "".join(lines[:index]), prm, "psf"
        )
        body = _section_body(lines, index)
        if len(body) > 1:
            cut = "".join(lines[: body[0] + 1])
            yield MalformedPair(f"{name}: psf cut inside !{section}", cut, prm, "psf")
    last_header = len("".join(lines[: headers[-1][0]]))
    for offset in random.Random(f"{name} psf").sample(range(1, last_header), 10):
        yield MalformedPair(f"{name}: psf cut at byte {offset}", psf[:offset], prm, "psf")


def _prm_truncations(name: str, psf: str, prm: str) -> Iterator[MalformedPair]:
    lines = prm.splitlines(keepends=True)
    for index, section in _prm_headers(lines):
        yield MalformedPair(f"{name}: prm cut before {section}", psf, "".join(lines[:index]), "prm")
    end = prm.rindex("END")
    for offset in random.Random(f"{name} prm").sample(range(1, end), 10):
        yield MalformedPair(f"{name}: prm cut at byte {offset}", psf, prm[:offset], "prm")


def _garbled(name: str, psf: str, prm: str) -> Iterator[MalformedPair]:
    rng = random.Random(f"{name} garbled")
    for which, text in (("psf", psf), ("prm", prm)):
        data = text.encode()
        for trial in range(3):
            start = rng.randrange(len(data) - 64)
            noise = b"\xff" + rng.randbytes(rng.randrange(1, 64))
            garbled = data[:start] + noise + data[start + len(noise) :]
            pair = (garbled, prm) if which == "psf" else (psf, garbled)
            yield MalformedPair(f"{name}: {which} garbled #{trial}", *pair, which)
        noise = b"\xfe" + rng.randbytes(len(data))
        pair = (noise, prm) if which == "psf" else (psf, noise)
        yield MalformedPair(f"{name}: {which} replaced by random bytes", *pair, which)


def _atom_lines(lines: list[str]) -> range:
    start, count = next(
        (i, int(lines[i].split()[0])) for i, s in _psf_headers(lines) if s == "NATOM"
    )
    return range(start + 1, start + 1 + count)


def _with_field(line: str, field: int, value: str) -> str:
    fields = line.split()
    fields[field] = value
    return "  ".join(fields) + "\n"


def _wrong_atom_fields(name: str, psf: str, prm: str) -> Iterator[MalformedPair]:
    lines = psf.splitlines(keepends=True)
    atoms = _atom_lines(lines)
    chosen = [(atoms[0], edit) for edit in ATOM_FIELD_EDITS]
    chosen += [(i, ATOM_FIELD_EDITS[k % len(ATOM_FIELD_EDITS)]) for k, i in enumerate(atoms[1:])]
    for line, (field, value) in chosen:
        edited = lines[:line] + [_with_field(lines[line], field, value)] + lines[line + 1 :]
        label = f"{name}: psf line {line + 1} field {field} = {value!r}"
        yield MalformedPair(label, "".join(edited), prm, "psf")
    line = atoms[2]
    dropped = lines[:line] + ["  ".join(lines[line].split()[:5]) + "\n"] + lines[line + 1 :]
    yield MalformedPair(f"{name}: psf line {line + 1} cut short", "".join(dropped), prm, "psf")


def _missing_psf_sections(name: str, psf: str, prm: str) -> Iterator[MalformedPair]:
    lines = psf.splitlines(keepends=True)
    headers = _psf_headers(lines)
    for number, (index, section) in enumerate(headers):
        if section not in REQUIRED_PSF_SECTIONS:
            continue
        end = headers[number + 1][0] if number + 1 < len(headers) else len(lines)
        edited = "".join(lines[:index] + lines[end:])
        yield MalformedPair(f"{name}: psf without !{section}", edited, prm, "psf")


def _duplicated_atoms(name: str, psf: str, prm: str) -> Iterator[MalformedPair]:
    lines = psf.splitlines(keepends=True)
    atoms = _atom_lines(lines)
    header = atoms[0] - 1
    count = len(atoms)
    for line in (atoms[0], atoms[len(atoms) // 2], atoms[-1]):
        same_count = lines[: line + 1] + [lines[line]] + lines[line + 1 :]
        yield MalformedPair(f"{name}: atom line {line + 1} twice", "".join(same_count), prm, "psf")
        grown = list(same_count)
        grown[header] = lines[header].replace(str(count), str(count + 1), 1)
        label = f"{name}: atom line {line + 1} twice, NATOM + 1"
        yield MalformedPair(label, "".join(grown), prm, "psf")
    renumbered = list(lines)
    renumbered[atoms[1]] = _with_field(lines[atoms[1]], 0, lines[atoms[0]].split()[0])
    yield MalformedPair(f"{name}: two atoms numbered 1", "".join(renumbered), prm, "psf")


def _bad_atom_indices(name: str, psf: str, prm: str) -> Iterator[MalformedPair]:
    lines = psf.splitlines(keepends=True)
    count = len(_atom_lines(lines))
    for index, section in _psf_headers(lines):
        body = _section_body(lines, index)
        if section not in ("NBOND", "NTHETA", "NPHI", "NIMPHI", "NCRTERM") or not body:
            continue
        for value in ("0", str(count + 1), "-2", "C1"):
            edited = list(lines)
            fields = lines[body[0]].split()
            fields[0] = value
            edited[body[0]] = "".join(f"{field:>10s}" for field in fields) + "\n"
            label = f"{name}: !{section} atom index {value}"
            yield MalformedPair(label, "".join(edited), prm, "psf")


def _entry_blocks(lines: list[str]) -> Iterator[tuple[str, range]]:
    """``(section, line range)`` of each parameter entry (a CMAP entry spans its grid)."""
    headers = _prm_headers(lines)
    for (start, section), (end, _) in zip(headers, headers[1:], strict=False):
        if section not in PARAMETER_SECTIONS and section != "ATOMS":
            continue
        index = start + 1
        while index < end:
            text = lines[index].strip()
            if (
                not text
                or text.startswith("!")
                or not text[0].isalpha()
                or text.startswith("cutnb")
            ):
                index += 1
                continue
            stop = index + 1
            if section == "CMAP":
                while stop < end and lines[stop].strip():
                    stop += 1
            yield section, range(index, stop)
            index = stop


def _entry_key(section: str, line: str) -> tuple[str, ...]:
    width = {"BONDS": 2, "ANGLES": 3, "DIHEDRALS": 4, "IMPROPER": 4}.get(section, 1)
    return (section, *line.split()[:width])


def _missing_parameters(name: str, psf: str, prm: str) -> Iterator[MalformedPair]:
    """Remove each entry in turn (an ATOMS mass, a bond, ..., a NONBONDED type).

    Dihedrals with several Fourier terms share a key; removing one of them leaves a
    valid (different) force field, so those entries are skipped.
    """
    lines = prm.splitlines(keepends=True)
    blocks = list(_entry_blocks(lines))
    keys = [_entry_key(section, lines[block[0]]) for section, block in blocks]
    for (section, block), key in zip(blocks, keys, strict=True):
        if keys.count(key) > 1:
            continue
        edited = "".join(lines[: block[0]] + lines[block.stop :])
        label = f"{name}: prm without {section} entry {' '.join(lines[block[0]].split()[:5])}"
        yield MalformedPair(label, psf, edited, "prm")


def _non_finite_parameters(name: str, psf: str, prm: str) -> Iterator[MalformedPair]:
    lines = prm.splitlines(keepends=True)
    seen = set()
    for section, block in _entry_blocks(lines):
        if section in seen or section == "CMAP":
            continue
        seen.add(section)
        fields = lines[block[0]].split()
        numeric = next(i for i, field in enumerate(fields) if re.match(r"^-?[\d.]+$", field))
        if section == "NONBONDED":
            numeric += 1
        for value in ("nan", "inf"):
            edited = list(lines)
            edited[block[0]] = "  ".join(fields[:numeric] + [value] + fields[numeric + 1 :]) + "\n"
            label = f"{name}: prm {section} {' '.join(fields[:numeric])} = {value}"
            yield MalformedPair(label, psf, "".join(edited), "prm")
    for value in ("abc", "-1.0", "nan"):
        edited = re.sub(r"e14fac\s+\S+", f"e14fac {value}", prm)
        yield MalformedPair(f"{name}: prm e14fac {value}", psf, edited, "prm")


GENERATORS = (
    _psf_truncations,
    _prm_truncations,
    _garbled,
    _wrong_atom_fields,
    _missing_psf_sections,
    _duplicated_atoms,
    _bad_atom_indices,
    _missing_parameters,
    _non_finite_parameters,
)


def malformed_pairs() -> list[MalformedPair]:
    """The whole corpus, for butane and dialanine, without repeated contents."""
    pairs: dict[tuple, MalformedPair] = {}
    for name in ("butane", "dialanine"):
        files = charmm_files(name)
        psf, prm = files.psf.read_text(), files.prm.read_text()
        for generate in GENERATORS:
            for pair in generate(name, psf, prm):
                pairs.setdefault((pair.psf, pair.prm), pair)
    return list(pairs.values())
