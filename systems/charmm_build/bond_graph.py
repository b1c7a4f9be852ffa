"""Angles and dihedrals implied by a bond list, as CHARMM's AUTOGENERATE makes them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["BondGraph"]


class BondGraph:
    """Covalent connectivity of ``n_atoms`` atoms (0-based indices).

    Example:
        >>> graph = BondGraph(4, [(0, 1), (1, 2), (2, 3)])
        >>> graph.dihedrals()
        [(0, 1, 2, 3)]
    """

    def __init__(self, n_atoms: int, bonds: Iterable[tuple[int, int]]) -> None:
        self.n_atoms = n_atoms
        self.bonds = [tuple(bond) for bond in bonds]
        self._neighbours: list[set[int]] = [set() for _ in range(n_atoms)]
        for first, second in self.bonds:
            self._neighbours[first].add(second)
            self._neighbours[second].add(first)

    def neighbours(self, atom: int) -> list[int]:
        """Atoms bonded to ``atom``, ascending."""
        return sorted(self._neighbours[atom])

    def is_bonded(self, first: int, second: int) -> bool:
        """Whether ``first`` and ``second`` share a bond."""
        return second in self._neighbours[first]

    def is_chain(self, atoms: Sequence[int]) -> bool:
        """Whether consecutive atoms in ``atoms`` are all bonded (a proper angle or dihedral)."""
        return all(self.is_bonded(a, b) for a, b in zip(atoms[:-1], atoms[1:], strict=True))

    def common_neighbour(self, first: int, second: int) -> int:
        """The atom bonded to both ``first`` and ``second`` (the apex of a 1-3 pair)."""
        shared = self._neighbours[first] & self._neighbours[second]
        if len(shared) != 1:
            raise ValueError(f"atoms {first} and {second} are not a unique 1-3 pair")
        return shared.pop()

    def angles(self) -> list[tuple[int, int, int]]:
        """Every angle ``(i, j, k)`` with ``i < k``, sorted by apex then ends."""
        return [
            (first, apex, last)
            for apex in range(self.n_atoms)
            for first in self.neighbours(apex)
            for last in self.neighbours(apex)
            if first < last
        ]

    def dihedrals(self) -> list[tuple[int, int, int, int]]:
        """Every proper dihedral ``(i, j, k, l)`` once, in bond-list order of its central bond.

        Each dihedral is oriented so that ``i < l``; three-membered rings are skipped.
        """
        found = []
        for second, third in self.bonds:
            for first in self.neighbours(second):
                for last in self.neighbours(third):
                    if len({first, second, third, last}) < 4:
                        continue
                    forward = (first, second, third, last)
                    found.append(forward if first < last else forward[::-1])
        return found
