"""The options of CHARMM NONBONDED header lines that the vacuum energy depends on.

A header is the line that opens a NONBONDED section plus the lines it continues
onto (a line ending in ``-``), with ``!`` comments removed::

    NONBONDED nbxmod  5 atom cdiel fshift vatom vdistance vfswitch -
    cutnb 14.0 ctofnb 12.0 ctonnb 10.0 eps 1.0 e14fac 1.0 wmin 1.5

Keywords are matched on their first four letters, case-insensitively, as CHARMM
does. CHARMM reads parameter files in order, so the last header that sets an
option wins. The energy is that of a constant dielectric of 1 (as OpenMM's), so a
header asking for another (``RDIEL``, or ``EPS`` other than 1) is refused rather than
ignored; so is ``GEOM`` (the geometric Lennard-Jones combining rule), since the
energy combines R_min arithmetically (R_i/2 + R_j/2).

This module is the only reader of ``E14FAC``: :func:`without_e14fac` blanks it out
of the copies of the files parmed reads (parmed divides by it and refuses a later
file that changes it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forcefields.errors import InputFileError

__all__ = ["NonbondedOptions", "read_nonbonded_options", "without_e14fac"]

_SECTION_KEYWORDS = ("NONB", "NBON")


@dataclass(frozen=True)
class NonbondedOptions:
    """Options of the NONBONDED headers (CHARMM defaults when no header sets them).

    Attributes:
        e14fac: scale of 1-4 Coulomb interactions, dimensionless, >= 0.
        nbxmod: exclusion rule; only 5 (1-2 and 1-3 pairs excluded, 1-4 pairs with
            their own Lennard-Jones parameters) is supported.
    """

    e14fac: float = 1.0
    nbxmod: int = 5


def _code(line: str) -> str:
    """``line`` without its ``!`` comment and surrounding blanks."""
    return line.split("!", 1)[0].strip()


def _header_ranges(lines: Sequence[str]) -> Iterator[range]:
    """The 0-based line indices of each NONBONDED header (its first line and the lines
    it continues onto)."""
    number = 0
    while number < len(lines):
        start = number
        code = _code(lines[number])
        number += 1
        words = code.split()
        if not words or words[0][:4].upper() not in _SECTION_KEYWORDS:
            continue
        while code.endswith("-") and number < len(lines):
            code = _code(lines[number])
            number += 1
        yield range(start, number)


def _headers(lines: Sequence[str]) -> Iterator[tuple[int, list[str]]]:
    """``(1-based line number, words after the section keyword)`` of each NONBONDED header."""
    for header in _header_ranges(lines):
        code = " ".join(_code(lines[index]).removesuffix("-") for index in header)
        yield header.start + 1, code.split()[1:]


def _word_spans(lines: Sequence[str], header: range) -> list[tuple[int, int, int]]:
    """``(line index, start, stop)`` of each word of a header, in order, without the
    ``!`` comments and the ``-`` continuation marks (``lines[index][start:stop]``)."""
    spans = []
    for index in header:
        code = lines[index].split("!", 1)[0]
        for match in re.finditer(r"\S+", code):
            start, stop = match.span()
            if index != header[-1] and stop == len(code.rstrip()):
                stop -= 1  # the continuation mark, alone or glued to the last word
            if stop > start:
                spans.append((index, start, stop))
    return spans


def without_e14fac(lines: Sequence[str]) -> list[str]:
    """``lines`` of a parameter file with each NONBONDED header's ``E14FAC`` keyword and
    value replaced by blanks (same number of lines, same columns elsewhere)."""
    edited = list(lines)
    for header in _header_ranges(lines):
        spans = _word_spans(lines, header)
        for position, (index, start, stop) in enumerate(spans):
            if lines[index][start:stop][:4].upper() != "E14F":
                continue
            for blank_index, blank_start, blank_stop in spans[position : position + 2]:
                line = edited[blank_index]
                edited[blank_index] = (
                    line[:blank_start] + " " * (blank_stop - blank_start) + line[blank_stop:]
                )
    return edited


def _where(path: Path, line: int) -> str:
    """Message prefix naming the file and the header's first line."""
    return f"{path}: NONBONDED header at line {line}"


def _value(path: Path, line: int, words: list[str], index: int) -> str:
    """The word after keyword ``words[index]``."""
    if index + 1 >= len(words):
        raise InputFileError(f"{_where(path, line)}: {words[index]} has no value")
    return words[index + 1]


def _e14fac(path: Path, line: int, text: str) -> float:
    """E14FAC's value ``text`` as a float, checked finite and >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not np.isfinite(value) or value < 0:
        raise InputFileError(
            f"{_where(path, line)}: E14FAC must be a finite number >= 0, got {text!r}"
        )
    return value


def _nbxmod(path: Path, line: int, text: str) -> int:
    """NBXMOD's value ``text``, checked to be the one supported rule, 5."""
    if text.lstrip("+") != "5":
        raise InputFileError(
            f"{_where(path, line)}: NBXMOD {text} is not supported (only NBXMOD 5: 1-2 and "
            "1-3 pairs excluded, 1-4 pairs with the 1-4 Lennard-Jones parameters and E14FAC)"
        )
    return 5


def _check_unsupported(path: Path, line: int, keyword: str, words: list[str], index: int) -> None:
    """Refuses a distance-dependent dielectric (RDIEL), a dielectric constant other
    than 1 (EPS) and the geometric combining rule (GEOM)."""
    if keyword == "GEOM":
        raise InputFileError(
            f"{_where(path, line)}: GEOM (the geometric Lennard-Jones combining rule) is not "
            "supported; the energy combines R_min arithmetically (R_i/2 + R_j/2)"
        )
    if keyword == "RDIE":
        raise InputFileError(
            f"{_where(path, line)}: RDIEL (a distance-dependent dielectric) is not supported; "
            "the energy has a constant dielectric of 1 (CDIEL)"
        )
    if keyword == "EPS":
        text = _value(path, line, words, index)
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if value != 1.0:
            raise InputFileError(
                f"{_where(path, line)}: EPS {text} is not supported; the energy has a "
                "dielectric constant of 1"
            )


def read_nonbonded_options(prm_files: Sequence[Path]) -> NonbondedOptions:
    """The E14FAC and NBXMOD options of ``prm_files``, read in order (the last setting wins).

    Raises:
        InputFileError: a file is unreadable; an option has no value; E14FAC is not a
            finite number >= 0; NBXMOD is not 5; RDIEL, EPS other than 1, or GEOM. The message
            names the file and line.
    """
    options = NonbondedOptions()
    for path in prm_files:
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError as error:
            raise InputFileError(f"{path}: cannot read it ({error})") from error
        for line, words in _headers(lines):
            for index, word in enumerate(words):
                keyword = word[:4].upper()
                if keyword == "E14F":
                    value = _e14fac(path, line, _value(path, line, words, index))
                    options = NonbondedOptions(value, options.nbxmod)
                elif keyword == "NBXM":
                    value = _nbxmod(path, line, _value(path, line, words, index))
                    options = NonbondedOptions(options.e14fac, value)
                else:
                    _check_unsupported(path, line, keyword, words, index)
    return options
