"""The CHARMM36 data OpenMM ships as ffxml: residue templates, atom types, LJ and torsions.

``charmm36.xml`` (OpenMM's conversion of the August 2015 CHARMM36 toppar release) keeps
what the psf and prm files need but the OpenMM ``System`` loses: CHARMM atom types,
Lennard-Jones ``sigma``/``epsilon`` with the special 1-4 values, and torsion entries whose
force constant is zero (which ``ForceField`` drops).
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import openmm.app

from forcefields.errors import MissingParameterError, UnknownNameError

__all__ = [
    "CHARMM36_FFXML",
    "TemplateAtom",
    "ResidueTemplate",
    "AtomTypeRecord",
    "LennardJonesRecord",
    "ProperRecord",
    "FfxmlData",
    "sha256_of",
    "ffxml_origin",
]

CHARMM36_FFXML = Path(openmm.app.__file__).parent / "data" / "charmm36.xml"


@dataclass(frozen=True)
class TemplateAtom:
    """One atom of a residue template: name, CHARMM type and partial charge (e)."""

    name: str
    charmm_type: str
    charge: float


@dataclass(frozen=True)
class ResidueTemplate:
    """A residue template: atoms in file order and bonds by atom name."""

    name: str
    atoms: tuple[TemplateAtom, ...]
    bonds: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class AtomTypeRecord:
    """A CHARMM atom type: element symbol and mass (amu)."""

    name: str
    element: str
    mass: float


@dataclass(frozen=True)
class LennardJonesRecord:
    """LJ parameters of one type in OpenMM units: sigma (nm), epsilon (kJ/mol).

    ``sigma14``/``epsilon14`` are ``None`` where the type has no special 1-4 values.
    """

    sigma: float
    epsilon: float
    sigma14: float | None
    epsilon14: float | None


@dataclass(frozen=True)
class ProperRecord:
    """A ``<Proper>`` entry: four types (``""`` = wildcard) and its cosine terms.

    Each term is ``(k kJ/mol, periodicity, phase rad)``.
    """

    types: tuple[str, str, str, str]
    terms: tuple[tuple[float, int, float], ...]

    def wildcard_count(self) -> int:
        """How many of the four positions are wildcards."""
        return sum(1 for name in self.types if name == "")

    def matches(self, types: Sequence[str]) -> bool:
        """Whether the entry applies to ``types`` read in either direction."""
        return any(
            all(pattern in ("", name) for pattern, name in zip(self.types, order, strict=True))
            for order in (tuple(types), tuple(types)[::-1])
        )


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ffxml_origin(path: Path) -> str:
    """The ``<Info>`` of an ffxml file in words: generation date and source packages."""
    info = ElementTree.parse(path).getroot().find("Info")
    if info is None:
        return "no <Info> block"
    date = info.findtext("DateGenerated", default="unknown date")
    packages = sorted(
        {source.get("sourcePackageVersion", "") for source in info.iterfind("Source")} - {""}
    )
    return f"generated {date} from {', '.join(packages) or 'unnamed sources'}"


class FfxmlData:
    """Residue templates, atom types, LJ parameters, NBFIX pairs and propers of ffxml files.

    Arguments:
        paths: ffxml files in load order (later residue templates may use earlier types).
    """

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = tuple(paths)
        self._residues: dict[str, ResidueTemplate] = {}
        self._atom_types: dict[str, AtomTypeRecord] = {}
        self._lennard_jones: dict[str, LennardJonesRecord] = {}
        self.nbfix_pairs: set[frozenset[str]] = set()
        self.propers: list[ProperRecord] = []
        for path in self.paths:
            self._read(ElementTree.parse(path).getroot())

    def _read(self, root: ElementTree.Element) -> None:
        for element in root.iterfind("AtomTypes/Type"):
            self._atom_types[element.get("name")] = AtomTypeRecord(
                element.get("name"), element.get("element"), float(element.get("mass"))
            )
        for element in root.iterfind("Residues/Residue"):
            atoms = tuple(
                TemplateAtom(atom.get("name"), atom.get("type"), float(atom.get("charge")))
                for atom in element.iterfind("Atom")
            )
            bonds = tuple(
                (bond.get("atomName1"), bond.get("atomName2")) for bond in element.iterfind("Bond")
            )
            self._residues[element.get("name")] = ResidueTemplate(element.get("name"), atoms, bonds)
        for element in root.iterfind("LennardJonesForce/Atom"):
            sigma14, epsilon14 = element.get("sigma14"), element.get("epsilon14")
            self._lennard_jones[element.get("type")] = LennardJonesRecord(
                float(element.get("sigma")),
                float(element.get("epsilon")),
                None if sigma14 is None else float(sigma14),
                None if epsilon14 is None else float(epsilon14),
            )
        for element in root.iterfind("LennardJonesForce/NBFixPair"):
            self.nbfix_pairs.add(frozenset((element.get("type1"), element.get("type2"))))
        for element in root.iterfind("PeriodicTorsionForce/Proper"):
            self.propers.append(_proper_record(element))

    def residue(self, name: str) -> ResidueTemplate:
        """The residue template called ``name``."""
        if name not in self._residues:
            raise UnknownNameError(f"residue template {name!r} is in none of {self._names()}")
        return self._residues[name]

    def atom_type(self, name: str) -> AtomTypeRecord:
        """The atom type called ``name``."""
        if name not in self._atom_types:
            raise MissingParameterError(f"atom type {name!r} is in none of {self._names()}")
        return self._atom_types[name]

    def lennard_jones(self, type_name: str) -> LennardJonesRecord:
        """LJ parameters of atom type ``type_name``."""
        if type_name not in self._lennard_jones:
            raise MissingParameterError(f"no LennardJonesForce entry for type {type_name!r}")
        return self._lennard_jones[type_name]

    def best_proper(self, types: Sequence[str]) -> ProperRecord:
        """The proper entry for ``types`` with the fewest wildcards (first in file on ties)."""
        candidates = [proper for proper in self.propers if proper.matches(types)]
        if not candidates:
            raise MissingParameterError(f"no <Proper> entry matches types {tuple(types)}")
        return min(candidates, key=ProperRecord.wildcard_count)

    def _names(self) -> str:
        return ", ".join(path.name for path in self.paths)


def _proper_record(element: ElementTree.Element) -> ProperRecord:
    types = tuple(element.get(f"type{position}", "") for position in range(1, 5))
    terms = []
    term = 1
    while element.get(f"k{term}") is not None:
        terms.append(
            (
                float(element.get(f"k{term}")),
                int(element.get(f"periodicity{term}")),
                float(element.get(f"phase{term}")),
            )
        )
        term += 1
    return ProperRecord(types, tuple(terms))
