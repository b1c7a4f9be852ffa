"""A Z-matrix for a molecule: the order atoms are placed in and each atom's reference atoms.

The heavy atoms come first (a breadth-first tree from a central heavy atom), then the
hydrogens, so the heavy-atom internal coordinates never depend on a hydrogen and a
hydrogen stage can be conditioned on the heavy atoms. The first three atoms ``a, b, c``
fix the frame; every later atom ``i`` has references ``(j, k, l)``: bond ``r = |x_i -
x_j|``, angle ``θ = ∠(i, j, k)`` and torsion ``φ = dihedral(l, k, j, i)``.

Torsions come in four kinds (:data:`TORSION_KINDS`):

``free``
    ``l`` is bonded to ``k``: a proper torsion over the whole circle.
``sibling``
    ``l`` is an earlier atom bonded to ``j`` (an earlier branch on the same atom): the
    torsion is the angle between the two branches about the ``j-k`` axis, kept within
    ±90° of its reference value (planar groups sit near 180°).
``chiral``
    a ``sibling`` torsion at an atom with four bonds: its sign is the handedness of
    the tetrahedral centre, so it is kept on the half circle (0, π) or (-π, 0) of the
    reference structure. This fixes chirality (e.g. the L configuration of alanine's
    Cα) by construction.
``rotor``
    the first hydrogen of a group of three identical hydrogens on an atom with one
    other bond (a methyl or ammonium rotor). The three are exchangeable, so
    configurations are relabelled (:meth:`~molgen.generators.internal.
    InternalCoordinateGenerator.canonical`) to make the first hydrogen the one nearest
    its reference torsion; the torsion is kept within ±90° of that value, which holds
    every such canonical labelling.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

import numpy as np

from forcefields.errors import ConfigError

__all__ = ["ZMatrix", "build_zmatrix", "TORSION_KINDS"]

TORSION_KINDS = ("free", "sibling", "rotor", "chiral")


@dataclass(frozen=True)
class ZMatrix:
    """Placement order and references of every atom.

    Attributes:
        order: ``(N,)`` atom indices in placement order; ``order[:3]`` are ``a, b, c``.
        references: ``(N - 3, 3)`` atoms ``(j, k, l)`` of ``order[3:]``.
        torsion_kinds: ``(N - 3,)`` index into :data:`TORSION_KINDS` per placed atom.
        n_heavy: number of heavy atoms (they are ``order[:n_heavy]``).
        rotors: ``(R, 3)`` the hydrogens of each rotor, first the one with the
            ``rotor`` torsion, then its siblings in the order they are placed.
    """

    order: np.ndarray
    references: np.ndarray
    torsion_kinds: np.ndarray
    n_heavy: int
    rotors: np.ndarray

    @property
    def n_atoms(self) -> int:
        """Number of atoms."""
        return len(self.order)


def build_zmatrix(
    heavy_atoms: np.ndarray, hydrogens: np.ndarray, bonds: list[tuple[int, int]]
) -> ZMatrix:
    """The Z-matrix of a molecule from its bond graph.

    Arguments:
        heavy_atoms, hydrogens: atom indices (together, every atom once).
        bonds: pairs of bonded atom indices.

    Raises :class:`ConfigError` for a molecule with fewer than three heavy atoms in a
    chain, disconnected heavy atoms, or a hydrogen not bonded to a heavy atom.
    """
    heavy = [int(a) for a in heavy_atoms]
    heavy_set = set(heavy)
    neighbours: dict[int, list[int]] = defaultdict(list)
    for first, second in bonds:
        neighbours[int(first)].append(int(second))
        neighbours[int(second)].append(int(first))
    for atom in neighbours:
        neighbours[atom].sort()

    def heavy_neighbours(atom: int) -> list[int]:
        return [n for n in neighbours[atom] if n in heavy_set]

    root = max(heavy, key=lambda atom: (len(heavy_neighbours(atom)), -atom))
    if len(heavy_neighbours(root)) < 2:
        raise ConfigError("Z-matrix: needs at least three heavy atoms bonded in a chain")
    first, third = heavy_neighbours(root)[:2]
    order = [first, root, third]
    parent = {root: None, first: root, third: root}
    queue = deque([root, first, third])
    while queue:
        atom = queue.popleft()
        for neighbour in heavy_neighbours(atom):
            if neighbour not in parent:
                parent[neighbour] = atom
                order.append(neighbour)
                queue.append(neighbour)
    if len(order) != len(heavy):
        raise ConfigError("Z-matrix: the heavy atoms are not all bonded into one molecule")

    placed = set(order[:3])
    references, kinds = [], []
    children: dict[tuple[int, int], list[int]] = defaultdict(list)

    def place(atom: int, j: int, rotor_first: bool) -> None:
        k = _axis_atom(j, atom, parent, heavy_neighbours, placed)
        earlier = children[(j, k)]
        tetrahedral = len(neighbours[j]) == 4
        if earlier:
            l, kind = earlier[0], "chiral" if tetrahedral else "sibling"
        else:
            l = next((n for n in heavy_neighbours(k) if n != j and n in placed), None)
            kind = "rotor" if rotor_first else "free"
            if l is None:
                l = next(n for n in heavy_neighbours(j) if n not in (k, atom) and n in placed)
                kind = "chiral" if tetrahedral else "sibling"
        references.append((j, k, l))
        kinds.append(TORSION_KINDS.index(kind))
        children[(j, k)].append(atom)
        placed.add(atom)

    for atom in order[3:]:
        place(atom, parent[atom], rotor_first=False)

    rotors = []
    for j in order:
        attached = [n for n in neighbours[j] if n not in heavy_set]
        for hydrogen in attached:
            if hydrogen not in set(int(h) for h in hydrogens):
                raise ConfigError(f"Z-matrix: atom {hydrogen} is neither heavy nor a hydrogen")
        is_rotor = len(attached) == 3 and len(heavy_neighbours(j)) == 1
        for position, hydrogen in enumerate(attached):
            place(hydrogen, j, rotor_first=is_rotor and position == 0)
        if is_rotor:
            rotors.append(attached)
    if len(placed) != len(heavy) + len(hydrogens):
        missing = sorted(set(int(h) for h in hydrogens) - placed)
        raise ConfigError(f"Z-matrix: hydrogens {missing} are not bonded to a heavy atom")
    return ZMatrix(
        order=np.array([*order, *_hydrogen_order(order, neighbours, heavy_set)], dtype=np.int64),
        references=np.array(references, dtype=np.int64).reshape(-1, 3),
        torsion_kinds=np.array(kinds, dtype=np.int64),
        n_heavy=len(heavy),
        rotors=np.array(rotors, dtype=np.int64).reshape(-1, 3),
    )


def _axis_atom(j: int, atom: int, parent, heavy_neighbours, placed) -> int:
    """The atom ``k`` bonded to ``j`` that defines the torsion axis of ``atom``.

    ``j``'s own parent when it has one; otherwise (``j`` is the root) a placed heavy
    neighbour of ``j`` that has a further placed heavy neighbour.
    """
    if parent.get(j) is not None:
        return parent[j]
    for candidate in heavy_neighbours(j):
        if candidate != atom and candidate in placed:
            if any(n != j and n in placed for n in heavy_neighbours(candidate)):
                return candidate
    return next(n for n in heavy_neighbours(j) if n != atom and n in placed)


def _hydrogen_order(order: list[int], neighbours, heavy_set) -> list[int]:
    return [n for j in order for n in neighbours[j] if n not in heavy_set]
