"""Where the CHARMM files (psf, prm, minimised pdb) of each molecule live.

The files are built by ``python -m systems.charmm_build``; see each folder's
``PROVENANCE.md``.

Example:
    >>> files = charmm_files("butane", "lipid")
    >>> files.psf.name, files.pdb.name
    ('butane.psf', 'butane.pdb')
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from forcefields.errors import UnknownNameError

__all__ = ["CharmmFiles", "CHARMM_VARIANTS", "charmm_files"]

_SYSTEMS_DIR = Path(__file__).resolve().parent


class CharmmFiles(NamedTuple):
    """A CHARMM topology (psf), its parameters (prm) and coordinates (pdb, same atom order)."""

    psf: Path
    prm: Path
    pdb: Path


def _files(folder: str, stem: str, pdb: str) -> CharmmFiles:
    return CharmmFiles(
        _SYSTEMS_DIR / folder / f"{stem}.psf",
        _SYSTEMS_DIR / folder / f"{stem}.prm",
        _SYSTEMS_DIR / pdb,
    )


_FILES = {
    ("butane", "default"): _files("butane", "butane", "butane/butane.pdb"),
    ("butane", "lipid"): _files("butane/lipid", "butane", "butane/butane.pdb"),
    ("dialanine", "default"): _files("dialanine", "dialanine", "dialanine/dialanine.pdb"),
}

CHARMM_VARIANTS: dict[str, tuple[str, ...]] = {
    name: tuple(variant for known, variant in _FILES if known == name) for name, _ in _FILES
}


def charmm_files(name: str, variant: str = "default") -> CharmmFiles:
    """The psf/prm/pdb paths of molecule ``name`` with force-field ``variant``.

    Arguments:
        name: ``"butane"`` or ``"dialanine"``.
        variant: ``"default"``; butane also has ``"lipid"`` (CHARMM36 lipid alkane types,
            same atoms and coordinates as the default).

    Raises:
        UnknownNameError: ``name`` or ``variant`` is not one of the above.
    """
    if name not in CHARMM_VARIANTS:
        raise UnknownNameError(f"unknown CHARMM system {name!r}; known: {sorted(CHARMM_VARIANTS)}")
    if (name, variant) not in _FILES:
        raise UnknownNameError(
            f"unknown variant {variant!r} of {name!r}; known: {list(CHARMM_VARIANTS[name])}"
        )
    return _FILES[(name, variant)]
