"""Checks of the psf's terms against the parameters that parmed would let pass silently.

* A CMAP cross-term whose atom types match a CMAP line only read backwards (the psf
  lists ``17 15 9 7 15 9 7 5`` for a map written ``5 7 9 15 7 9 15 17``): parmed
  keys each map under both orders with the same grid, so the term would get the map
  with φ and ψ swapped. CHARMM's files list the first torsion (φ) first; OpenMM
  refuses such a psf. It is refused here too.
* A DIHEDRALS line with multiplicity 0 (CHARMM's harmonic dihedral k (φ - δ)²) or a
  negative one: the energy only has CHARMM's periodic form k (1 + cos(n φ - δ)),
  n > 0, and would otherwise evaluate a constant k (1 + cos δ).

It also rewrites parmed's missing-parameter messages, which name atoms by 0-based
index (``<Atom C1 [3]; In BUTA 0>``), to name them by psf atom number (1-based).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from forcefields.errors import InputFileError, MissingParameterError

if TYPE_CHECKING:  # parmed is imported when files are read, not with the package
    from forcefields.charmm_impropers import CharmmOrderParameterSet

__all__ = ["check_cmap_directions", "check_dihedral_multiplicities", "psf_atom_message"]

_PARMED_ATOM = re.compile(r"<Atom (\S+) \[(\d+)\];[^>]*>")
_PARMED_MISSING_TYPE = re.compile(r"Could not find atom type for (\S+)")


def _atoms(atoms, types) -> str:
    """``psf atoms 5 CLP (C) - 7 NL (NH1) - ...`` (1-based numbers, names, types)."""
    return "psf atoms " + " - ".join(
        f"{atom.idx + 1} {atom.name} ({name})" for atom, name in zip(atoms, types, strict=True)
    )


def check_cmap_directions(
    psf: Path,
    structure,
    parameter_set: CharmmOrderParameterSet,
    cmap_keys: dict[tuple[str, ...], tuple[str, ...]],
) -> None:
    """Raise :class:`MissingParameterError` for the first psf cross-term whose types
    match a CMAP line of the parameter files only backwards.

    Arguments:
        psf: the psf, for messages.
        structure: parmed's structure of the psf.
        parameter_set: the parameter set (resolves the psf's atom types).
        cmap_keys: from :func:`forcefields.charmm_prm_scan.scan_parameter_file`.
    """
    from forcefields.charmm_impropers import parameter_type_name

    for number, cmap in enumerate(structure.cmaps, start=1):
        a = (cmap.atom1, cmap.atom2, cmap.atom3, cmap.atom4, cmap.atom5)
        atoms = (a[0], a[1], a[2], a[3], a[1], a[2], a[3], a[4])
        types = tuple(parameter_type_name(parameter_set, atom) for atom in atoms)
        if None in types:
            continue  # an unknown atom type: parmed reports it
        written = cmap_keys.get(min(types, types[::-1]))
        if written is None or written == types:
            continue
        raise MissingParameterError(
            f"{psf}: cross-term {number} ({_atoms(atoms, types)}): its atom types match the "
            f"CMAP line '{' '.join(written)}' of {parameter_set.files} only read backwards, "
            "which would swap φ and ψ; list the cross-term in the order of the CMAP line"
        )


def check_dihedral_multiplicities(structure, files: str) -> None:
    """Raise :class:`InputFileError` for the first psf dihedral whose DIHEDRALS parameter
    has a multiplicity n <= 0.

    Arguments:
        structure: parmed's structure with its parameters loaded.
        files: the parameter files, for messages.
    """
    for dihedral in structure.dihedrals:
        terms = dihedral.type if isinstance(dihedral.type, list) else [dihedral.type]
        for term in terms:
            if term is None or term.per > 0:
                continue
            atoms = (dihedral.atom1, dihedral.atom2, dihedral.atom3, dihedral.atom4)
            types = [str(atom.type) for atom in atoms]
            reason = (
                "multiplicity 0 (CHARMM's harmonic dihedral k (φ - δ)²) is not supported"
                if term.per == 0
                else f"multiplicity {term.per:g} is not supported (n must be > 0)"
            )
            where = f"the DIHEDRALS parameter of {' '.join(types)} (for {_atoms(atoms, types)})"
            raise InputFileError(
                f"{files}: {where}: {reason}; the energy has the periodic form "
                "k (1 + cos(n φ - δ)), n > 0"
            )


def psf_atom_message(message: str, structure) -> str:
    """parmed's ``message`` with its atoms (``<Atom C1 [3]; In BUTA 0>``) named by psf
    atom number (``psf atom 4 C1 (CG321)``) and a missing atom type by its first atom."""

    def atom(match: re.Match) -> str:
        index = int(match.group(2))
        return f"psf atom {index + 1} {match.group(1)} ({structure.atoms[index].type})"

    def atom_type(match: re.Match) -> str:
        name = match.group(1)
        first = next((a for a in structure.atoms if str(a.type).upper() == name.upper()), None)
        where = "" if first is None else f" (psf atom {first.idx + 1} {first.name})"
        return f"no MASS entry (atom type) for type {name}{where}"

    message = _PARMED_MISSING_TYPE.sub(atom_type, message)
    message = _PARMED_ATOM.sub(atom, message)
    return re.sub(r"<(\w+);? (.*?); type=None>", r"\1 \2", message)
