"""Read CHARMM parameter files into parmed's parameter set, after checks that name file and line.

Before parmed sees the files, each is checked to exist and end in ``END``, its
NONBONDED headers are read (:mod:`forcefields.charmm_nonbonded_options`) and its
entries are pre-scanned (:mod:`forcefields.charmm_prm_scan`). ``E14FAC`` is ours
alone: parmed divides by it (``E14FAC 0`` fails) and refuses a later file that
changes it, where CHARMM lets the last setting win. So parmed reads copies (same
name and suffix, in a temporary folder, same line numbers) with ``E14FAC`` and its
value blanked out of the NONBONDED headers; every message names the original files.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from forcefields.charmm_nonbonded_options import (
    NonbondedOptions,
    read_nonbonded_options,
    without_e14fac,
)
from forcefields.charmm_prm_scan import scan_parameter_file
from forcefields.errors import InputFileError

if TYPE_CHECKING:  # parmed is imported when files are read, not with the package
    from forcefields.charmm_impropers import CharmmOrderParameterSet

__all__ = ["CharmmParameters", "read_parameter_set", "one_line"]


@dataclass(frozen=True)
class CharmmParameters:
    """What the parameter files give the reader.

    Attributes:
        parameter_set: parmed's parameter set (impropers matched in CHARMM's order).
        options: E14FAC and NBXMOD of the NONBONDED headers.
        cmap_keys: each CMAP's eight atom types as written in the file that defines it
            last, keyed by the lesser of them and their reverse.
    """

    parameter_set: CharmmOrderParameterSet
    options: NonbondedOptions
    cmap_keys: dict[tuple[str, ...], tuple[str, ...]]


def one_line(error: BaseException) -> str:
    """``error``'s message on one line (its type's name when it has none)."""
    text = " ".join(str(error).split())
    return text if text else type(error).__name__


def _check_prm_end(prm: Path) -> None:
    """Raise :class:`InputFileError` unless ``prm`` has its closing ``END`` line (CHARMM
    stops reading there; a file without one is truncated), naming a psf given instead."""
    with prm.open(errors="replace") as handle:
        lines = [line.upper() for line in handle]
    if lines and lines[0].split()[:1] == ["PSF"]:
        raise InputFileError(f"{prm}: a CHARMM psf (its first line is PSF), not a parameter file")
    if not any(line.split()[:1] == ["END"] for line in lines):
        raise InputFileError(f"{prm}: no END line (truncated CHARMM parameter file?)")


def _copy_without_e14fac(path: Path, folder: Path, number: int) -> Path:
    """``path`` itself if no NONBONDED header sets E14FAC, else a copy without it in
    ``folder/number/`` under the same name. Read and written as Latin-1, every other
    byte of the copy is the original's (parmed refuses bytes that are not UTF-8 in
    either)."""
    with path.open(encoding="latin-1", newline="") as handle:
        lines = handle.read().splitlines(keepends=True)
    edited = without_e14fac(lines)
    if edited == lines:
        return path
    copy = folder / str(number) / path.name
    copy.parent.mkdir()
    with copy.open("w", encoding="latin-1", newline="") as handle:
        handle.write("".join(edited))
    return copy


def read_parameter_set(prm_files: Sequence[Path]) -> CharmmParameters:
    """Check ``prm_files`` and read them, in order, with parmed.

    Raises:
        InputFileError: a file is missing or unreadable, lacks its ``END`` line, has a
            bad NONBONDED header option or a malformed entry (file and line named), or
            parmed cannot read it (the files named).
    """
    from forcefields.charmm_impropers import CharmmOrderParameterSet

    cmap_keys: dict[tuple[str, ...], tuple[str, ...]] = {}
    for path in prm_files:
        if not path.is_file():
            raise InputFileError(f"{path}: parameter file not found")
        _check_prm_end(path)
    options = read_nonbonded_options(prm_files)
    for path in prm_files:
        cmap_keys.update(scan_parameter_file(path))
    names = ", ".join(map(str, prm_files))
    with tempfile.TemporaryDirectory(prefix="charmm_prm_") as folder:
        copies = [
            _copy_without_e14fac(path, Path(folder), number)
            for number, path in enumerate(prm_files)
        ]
        try:
            parameter_set = CharmmOrderParameterSet(*map(str, copies), files=names)
        except Exception as error:  # parmed raises many unrelated types on bad input
            message = one_line(error)
            for copy, path in zip(copies, prm_files, strict=True):
                message = message.replace(str(copy), str(path))
            raise InputFileError(
                f"{names}: not a readable CHARMM parameter file ({message})"
            ) from error
    return CharmmParameters(parameter_set, options, cmap_keys)
