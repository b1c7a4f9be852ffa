"""What a psf/prm pair holds, in CHARMM units (Å, kcal/mol, degrees, e, amu).

Indices are 0-based here; the psf writer adds one. Parameter tables are keyed by atom-type
tuples in a canonical direction (see :func:`type_key`), without wildcards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "PsfAtom",
    "CharmmTopology",
    "BondParameter",
    "AngleParameter",
    "DihedralTerm",
    "ImproperParameter",
    "CmapParameter",
    "LennardJonesParameter",
    "MassParameter",
    "CharmmParameters",
    "CharmmModel",
    "type_key",
]


def type_key(types: Sequence[str]) -> tuple[str, ...]:
    """The lexicographically smaller of ``types`` and its reverse (CHARMM reads both ways)."""
    forward = tuple(types)
    return min(forward, forward[::-1])


@dataclass(frozen=True)
class PsfAtom:
    """One psf atom: name, CHARMM type, charge (e), mass (amu) and element symbol."""

    name: str
    charmm_type: str
    charge: float
    mass: float
    element: str


@dataclass(frozen=True)
class CharmmTopology:
    """The psf: one segment holding one residue, and its term lists (0-based atom indices).

    ``cmaps`` rows are 8 atoms: the phi dihedral then the psi dihedral.
    """

    segment: str
    residue: str
    atoms: tuple[PsfAtom, ...]
    bonds: tuple[tuple[int, int], ...]
    angles: tuple[tuple[int, int, int], ...]
    dihedrals: tuple[tuple[int, int, int, int], ...]
    impropers: tuple[tuple[int, int, int, int], ...]
    cmaps: tuple[tuple[int, int, int, int, int, int, int, int], ...]

    def types(self, atoms: Sequence[int]) -> tuple[str, ...]:
        """CHARMM types of the atoms at ``atoms``."""
        return tuple(self.atoms[index].charmm_type for index in atoms)


@dataclass(frozen=True)
class BondParameter:
    """``Kb (b - b0)**2``: Kb (kcal/mol/Å²), b0 (Å)."""

    kb: float
    b0: float


@dataclass(frozen=True)
class AngleParameter:
    """``Ktheta (theta - theta0)**2 + Kub (s - s0)**2``.

    Ktheta (kcal/mol/rad²), theta0 (degrees); Kub (kcal/mol/Å²) and s0 (Å) are ``None``
    when the angle has no Urey–Bradley term.
    """

    ktheta: float
    theta0: float
    kub: float | None = None
    s0: float | None = None


@dataclass(frozen=True)
class DihedralTerm:
    """``Kchi (1 + cos(n chi - delta))``: Kchi (kcal/mol), n, delta (degrees)."""

    kchi: float
    multiplicity: int
    delta: float


@dataclass(frozen=True)
class ImproperParameter:
    """``Kpsi (psi - psi0)**2``: Kpsi (kcal/mol/rad²), psi0 (degrees)."""

    kpsi: float
    psi0: float


@dataclass(frozen=True)
class CmapParameter:
    """A CMAP grid: ``resolution``² energies (kcal/mol), phi rows from -180° upward,
    psi running fastest, both in steps of ``360 / resolution`` degrees."""

    resolution: int
    values: tuple[float, ...]


@dataclass(frozen=True)
class LennardJonesParameter:
    """``eps_ij [(Rmin_ij/r)**12 - 2 (Rmin_ij/r)**6]`` per type: epsilon (kcal/mol, positive
    depth), Rmin/2 (Å); the 1-4 values are ``None`` where they equal the normal ones."""

    epsilon: float
    rmin_half: float
    epsilon14: float | None
    rmin_half14: float | None


@dataclass(frozen=True)
class MassParameter:
    """An atom type's ``MASS`` line: mass (amu) and element symbol."""

    mass: float
    element: str


@dataclass(frozen=True)
class CharmmParameters:
    """The prm: parameters keyed by type tuples (keys as :func:`type_key` gives them, except
    impropers and CMAP, which keep the atom order of their psf entries)."""

    masses: Mapping[str, MassParameter]
    bonds: Mapping[tuple[str, ...], BondParameter]
    angles: Mapping[tuple[str, ...], AngleParameter]
    dihedrals: Mapping[tuple[str, ...], tuple[DihedralTerm, ...]]
    impropers: Mapping[tuple[str, ...], ImproperParameter]
    cmaps: Mapping[tuple[str, ...], CmapParameter]
    lennard_jones: Mapping[str, LennardJonesParameter]


@dataclass(frozen=True)
class CharmmModel:
    """A psf topology with the parameters it needs."""

    topology: CharmmTopology
    parameters: CharmmParameters
