"""CHARMM's improper-parameter lookup, in place of parmed's.

parmed's ``CharmmParameterSet.match_improper_type`` falls back to the *sorted*
atom types before it tries wildcards, so an IMPROPER line naming the psf
improper's types in another order wins over the wildcard line CHARMM uses.
CHARMM looks up the types ``A B C D`` of a psf improper (central atom first)
in these forms, in this order, each as written and then read backwards
(``D C B A``)::

    A B C D,   A X X D,   X B C D,   X B C X,   X X C D

and stops with an error when none is in the parameter files.

OpenMM's ``CharmmPsfFile`` agrees on the exact forms and on every file that
gives at most one of the wildcard forms an improper can match; it differs on
files that give several (it tries one-wildcard forms such as ``A X C D``, which
CHARMM does not know, before two-wildcard forms).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path

import parmed

from forcefields.errors import InputFileError, MissingParameterError

__all__ = [
    "CharmmOrderParameterSet",
    "IMPROPER_FORMS",
    "improper_table",
    "match_improper",
    "check_impropers",
    "parameter_type_name",
]

Types = tuple[str, str, str, str]

IMPROPER_FORMS = ("ABCD", "AXXD", "XBCD", "XBCX", "XXCD")
"""CHARMM's improper wildcard forms in order of precedence (``X``: any type)."""


def _form(types: Types, form: str) -> Types:
    """The key of ``form`` for the psf improper ``types``: ``X`` where the form has one."""
    return tuple(name if letter != "X" else "X" for name, letter in zip(types, form, strict=True))


def _describe(parameter) -> tuple:
    """The values of a harmonic (k, ψ0) or periodic (k, n, δ) improper type."""
    if isinstance(parameter, parmed.DihedralType):
        return ("periodic", parameter.phi_k, parameter.per, parameter.phase)
    return ("harmonic", parameter.psi_k, parameter.psi_eq)


def improper_table(parameter_set, source: str) -> dict[Types, object]:
    """Every IMPROPER entry of a parmed ``CharmmParameterSet`` under both atom orders.

    Arguments:
        parameter_set: the parmed parameter set.
        source: the parameter file names, for messages.

    Returns:
        ``{types: ImproperType | DihedralType}`` with each line's types as written
        and reversed (harmonic entries are ``ImproperType``, periodic ones, n > 0,
        ``DihedralType``).

    Raises:
        InputFileError: the same four types (in either order) carry different
            parameters, as harmonic and periodic, or written forwards in one file
            and backwards in another (parmed does not keep the file order that would
            say which line CHARMM keeps).
    """
    table: dict[Types, object] = {}
    entries = [
        *parameter_set.improper_types.items(),
        *parameter_set.improper_periodic_types.items(),
    ]
    for key, parameter in entries:
        for types in (tuple(key), tuple(reversed(key))):
            known = table.setdefault(types, parameter)
            if _describe(known) != _describe(parameter):
                raise InputFileError(
                    f"{source}: IMPROPER {' '.join(key)}: given twice with different parameters "
                    f"({_describe(known)} and {_describe(parameter)}); keep one line"
                )
    return table


def match_improper(table: Mapping[Types, object], types: Types):
    """The parameter CHARMM assigns to an improper with atom types ``types``, or ``None``.

    Arguments:
        table: from :func:`improper_table`.
        types: the four (upper-case) atom types, central atom first as in the psf.
    """
    for form in IMPROPER_FORMS:
        key = _form(types, form)
        if key in table:
            return table[key]
    return None


class CharmmOrderParameterSet(parmed.charmm.CharmmParameterSet):
    """parmed's CHARMM parameter set, matching impropers in CHARMM's order.

    Arguments:
        filenames: the parameter files, read in order.
        files: how messages name them (default: ``filenames`` joined by ", ").
    """

    def __init__(self, *filenames: str, files: str | None = None):
        super().__init__(*filenames)
        self.files = ", ".join(filenames) if files is None else files

    @cached_property
    def charmm_impropers(self) -> dict[Types, object]:
        """:func:`improper_table` of this set."""
        return improper_table(self, self.files)

    def match_improper_type(self, a1: str, a2: str, a3: str, a4: str):
        """The improper type of atom types ``a1 a2 a3 a4`` (see :func:`match_improper`)."""
        return match_improper(self.charmm_impropers, (a1, a2, a3, a4))


def parameter_type_name(parameter_set, atom) -> str | None:
    """The parameter-file type of a psf atom as parmed resolves it, or ``None`` if unknown."""
    if isinstance(atom.type, int):
        atom_type = parameter_set.atom_types_int.get(atom.type)
    else:
        atom_type = parameter_set.atom_types_str.get(atom.type.upper())
    return None if atom_type is None else str(atom_type).upper()


def check_impropers(psf: Path, structure, parameter_set: CharmmOrderParameterSet) -> None:
    """Raise :class:`MissingParameterError` naming the first psf improper CHARMM finds no
    parameter for (impropers with an atom of unknown type are left to parmed to report)."""
    for number, improper in enumerate(structure.impropers, start=1):
        atoms = (improper.atom1, improper.atom2, improper.atom3, improper.atom4)
        types = tuple(parameter_type_name(parameter_set, atom) for atom in atoms)
        if None in types or match_improper(parameter_set.charmm_impropers, types) is not None:
            continue
        names = "-".join(
            f"{atom.idx + 1} {atom.name} ({name})" for atom, name in zip(atoms, types, strict=True)
        )
        raise MissingParameterError(
            f"{psf}: improper {number} ({names}): no IMPROPER parameter in "
            f"{parameter_set.files} (tried {', '.join(IMPROPER_FORMS)}, each either way round)"
        )
