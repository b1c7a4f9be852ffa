"""A light pre-scan of CHARMM parameter files: field counts and numbers, by file and line.

parmed's parser reports a malformed line without its file and often without its
line (``Could not parse bonds.``, ``list index out of range``). This scan walks the
sections the way parmed does (a line starting with ``BOND``, ``ANGLE``/``THETA``,
``DIHE``/``PHI``, ``IMPROPER``/``IMPHI``, ``CMAP``, ``NONBONDED``, ``NBFIX``, ... opens
a section; ``END`` closes it; ``!`` starts a comment; a line ending in ``-``
continues onto the next) and checks that each entry has its atom types and numeric
fields::

    BONDS       A B k b0                     ANGLES     A B C k θ0 [k_UB r_UB]
    DIHEDRALS   A B C D k n δ  (n integer)   IMPROPER   A B C D k [n] ψ0
    NONBONDED   A ignored ε R/2 [ignored ε14 R14/2]
    NBFIX       A B ε R [ε14 R14]            MASS       MASS index A mass [element]
    CMAP        A B C D E F G H resolution, then resolution² numbers

It is not a parser: parmed still reads the values. In a stream file (``.str``) only
the ``read para`` blocks are scanned.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from forcefields.errors import InputFileError

__all__ = ["scan_parameter_file"]

# Section keywords as parmed recognises them (prefixes of the upper-case line), in its order.
_SECTIONS = (
    ("ATOM", "ATOMS"),
    ("BOND", "BONDS"),
    ("ANGLE", "ANGLES"),
    ("THETA", "ANGLES"),
    ("DIHE", "DIHEDRALS"),
    ("PHI", "DIHEDRALS"),
    ("IMPROPER", "IMPROPER"),
    ("IMPHI", "IMPROPER"),
    ("CMAP", "CMAP"),
    ("NONBONDED", "NONBONDED"),
    ("NBFIX", "NBFIX"),
    ("HBOND", None),
    ("THOLE", None),
)

# section: (number of atom types, required fields, optional group of fields); a field is
# (kind, name) with kind "f" (a number) or "i" (an integer); the optional group is all or none.
_Field = tuple[str, str]
_ENTRIES: dict[str, tuple[int, tuple[_Field, ...], tuple[_Field, ...]]] = {
    "BONDS": (2, (("f", "force constant"), ("f", "length")), ()),
    "ANGLES": (
        3,
        (("f", "force constant"), ("f", "angle")),
        (("f", "Urey-Bradley force constant"), ("f", "Urey-Bradley length")),
    ),
    "DIHEDRALS": (4, (("f", "force constant"), ("i", "multiplicity"), ("f", "phase")), ()),
    "IMPROPER": (4, (("f", "force constant"), ("f", "multiplicity or angle")), (("f", "angle"),)),
    "NONBONDED": (
        1,
        (("f", "ignored"), ("f", "epsilon"), ("f", "Rmin/2")),
        (("f", "ignored 1-4"), ("f", "1-4 epsilon"), ("f", "1-4 Rmin/2")),
    ),
    "NBFIX": (2, (("f", "Emin"), ("f", "Rmin")), (("f", "1-4 Emin"), ("f", "1-4 Rmin"))),
    "MASS": (0, (("i", "type number"), ("t", "atom type"), ("f", "mass")), ()),
}


def _number(text: str, kind: str) -> bool:
    """Whether ``text`` reads as a finite or infinite number (``kind`` "f") or as an
    integer ("i": ``2`` or ``2.0``, not ``2.5``)."""
    try:
        value = float(text)
    except ValueError:
        return False
    return kind != "i" or value.is_integer()


def _logical_lines(lines: Sequence[str]) -> Iterator[tuple[int, str]]:
    """``(1-based number of the first line, text without comment)``, joining a line that
    ends in ``-`` (and has no comment) with the next, as parmed's ``CharmmFile`` does."""
    index = 0
    while index < len(lines):
        start, parts = index, []
        while index < len(lines):
            raw = lines[index].rstrip("\r\n")
            index += 1
            if "!" not in raw and raw.endswith("-"):
                parts.append(raw[:-1])
                continue
            parts.append(raw.split("!", 1)[0])
            break
        yield start + 1, " ".join(parts).strip()


def _check_entry(where: str, section: str, words: list[str]) -> None:
    """Raise unless ``words`` has the atom types and numbers of an entry of ``section``."""
    n_types, required, optional = _ENTRIES[section]
    fields = required + (optional if len(words) > n_types + len(required) else ())
    if len(words) < n_types + len(fields):
        names = [f"{n_types} atom types"] if n_types > 1 else ["an atom type"] * n_types
        names += [name for _, name in fields]
        raise InputFileError(
            f"{where}: {section} entry needs {n_types + len(fields)} fields ({', '.join(names)}); "
            f"got {' '.join(words)!r}"
        )
    for (kind, name), text in zip(fields, words[n_types:], strict=False):
        if kind != "t" and not _number(text, kind):
            expected = "an integer" if kind == "i" else "a number"
            raise InputFileError(f"{where}: {section} {name} {text!r} is not {expected}")


class _CmapScan:
    """Checks CMAP headers and the number of grid values; remembers each header's types."""

    def __init__(self, path: Path):
        self.path = path
        self.keys: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.header: tuple[int, int] | None = None  # (line, resolution)
        self.count = 0

    def close(self) -> None:
        """Raise if the map being read has not exactly resolution² values."""
        if self.header is not None:
            line, resolution = self.header
            if self.count != resolution**2:
                raise InputFileError(
                    f"{self.path}: line {line}: CMAP of resolution {resolution} needs "
                    f"{resolution**2} values, got {self.count}"
                )
        self.header, self.count = None, 0

    def line(self, number: int, words: list[str]) -> None:
        """One (non-empty) line of the CMAP section."""
        where = f"{self.path}: line {number}"
        if _number(words[0], "f"):
            if self.header is None:
                raise InputFileError(f"{where}: CMAP values before a CMAP header line")
            for word in words:
                if not _number(word, "f"):
                    raise InputFileError(f"{where}: CMAP value {word!r} is not a number")
            self.count += len(words)
            return
        # parmed reads the resolution with int(): "24.0" is refused there, so here too
        is_header = len(words) >= 9 and words[8].isdigit()
        if not is_header and self.header is not None and self.count < self.header[1] ** 2:
            raise InputFileError(f"{where}: CMAP value {words[0]!r} is not a number")
        self.close()
        if not is_header or int(words[8]) < 1:
            raise InputFileError(
                f"{where}: CMAP header needs 8 atom types and a resolution > 0; "
                f"got {' '.join(words)!r}"
            )
        key = tuple(word.upper() for word in words[:8])
        self.keys[min(key, key[::-1])] = key
        self.header = (number, int(words[8]))


def _parameter_lines(lines: list[str]) -> Iterator[tuple[int, str]]:
    """The logical lines parmed reads as parameters: all of them, or in a stream file
    those of its ``read para`` blocks (up to their ``END``)."""
    stream = any(line.split()[:1] and line.split()[0].upper() == "READ" for line in lines)
    inside = not stream
    for number, text in _logical_lines(lines):
        words = text.upper().split()
        if stream and words[:1] == ["READ"]:
            inside = len(words) > 1 and words[1].startswith("PARA")
            continue
        if inside:
            yield number, text
            if stream and words[:1] == ["END"]:
                inside = False


def scan_parameter_file(path: Path) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Check the entries of a CHARMM parameter file.

    Returns:
        The CMAP headers' atom types (upper case) as written, keyed by the lesser of
        them and their reverse (parmed's key): ``{canonical: as written}``; a later
        header with the same key replaces an earlier one, as in parmed.

    Raises:
        InputFileError: an entry lacks a field or has a non-numeric one (message:
            ``file: line N: SECTION field 'text' is not a number``), or a CMAP grid has
            not resolution² values.
    """
    lines = path.read_text(errors="replace").splitlines()
    section: str | None = None
    cmap = _CmapScan(path)
    nonbonded_entries = 0
    for number, text in _parameter_lines(lines):
        upper = text.upper()
        if not text:
            continue
        opened = next((name for prefix, name in _SECTIONS if upper.startswith(prefix)), "")
        if opened != "" or upper[:3] == "END":
            if section == "CMAP":
                cmap.close()
            section, nonbonded_entries = (opened or None), 0
            continue
        words = text.split()
        where = f"{path}: line {number}"
        if section == "CMAP":
            cmap.line(number, words)
        elif section == "ATOMS" and upper.startswith("MASS"):
            _check_entry(where, "MASS", words[1:])
        elif section == "NONBONDED" and nonbonded_entries == 0:
            # parmed reads lines that fail before the first entry as header options
            try:
                _check_entry(where, section, words)
            except InputFileError:
                continue
            nonbonded_entries += 1
        elif section in _ENTRIES:
            _check_entry(where, section, words)
    if section == "CMAP":
        cmap.close()
    return cmap.keys
