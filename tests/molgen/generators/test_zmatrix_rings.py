"""Z-matrices of ring and branched molecules and of atoms numbered in any order."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from molgen.generators.internal_coordinates import to_cartesian, to_internal
from molgen.generators.zmatrix import build_zmatrix

RING6 = [(i, (i + 1) % 6) for i in range(6)]
RING6_H = [(i, 6 + 2 * i) for i in range(6)] + [(i, 7 + 2 * i) for i in range(6)]
RING3 = [(0, 1), (1, 2), (2, 0)]
RING3_H = [(0, 3), (0, 4), (1, 5), (1, 6), (2, 7), (2, 8)]
# 2,2-dimethylbutane: a quaternary carbon (1) holding three methyls and an ethyl
NEOHEXANE = [(0, 1), (1, 2), (1, 3), (1, 4), (4, 5)]
NEOHEXANE_H = [
    (carbon, 6 + i) for i, carbon in enumerate([0] * 3 + [2] * 3 + [3] * 3 + [4] * 2 + [5] * 3)
]
# toluene: a ring with a methyl (6) on carbon 0
TOLUENE = RING6 + [(0, 6)]
TOLUENE_H = [(carbon, 7 + i) for i, carbon in enumerate([1, 2, 3, 4, 5, 6, 6, 6])]


def _molecules():
    yield "cyclohexane", list(range(6)), list(range(6, 18)), RING6 + RING6_H
    yield "cyclopropane", [0, 1, 2], list(range(3, 9)), RING3 + RING3_H
    # branches: every reference atom must be placed before the atom that uses it
    yield "neohexane", list(range(6)), list(range(6, 20)), NEOHEXANE + NEOHEXANE_H
    yield "toluene", list(range(7)), list(range(7, 15)), TOLUENE + TOLUENE_H
    perm = np.random.RandomState(1).permutation(18)
    bonds = [(int(perm[a]), int(perm[b])) for a, b in RING6 + RING6_H]
    yield "cyclohexane_shuffled", sorted(perm[:6].tolist()), sorted(perm[6:].tolist()), bonds


@pytest.mark.parametrize("molecule", list(_molecules()), ids=lambda m: m[0])
def test_ring_zmatrix_round_trips_up_to_a_rigid_motion(molecule):
    _, heavy, hydrogens, bonds = molecule
    zmatrix = build_zmatrix(np.array(heavy), np.array(hydrogens), bonds)
    n_atoms = len(heavy) + len(hydrogens)
    assert sorted(zmatrix.order.tolist()) == list(range(n_atoms))
    generator = torch.Generator().manual_seed(0)
    x = 0.15 * torch.randn(4, n_atoms, 3, generator=generator, dtype=torch.float64)
    internal = to_internal(x, zmatrix)
    rebuilt = to_cartesian(internal, zmatrix)
    torch.testing.assert_close(to_internal(rebuilt, zmatrix), internal)
    torch.testing.assert_close(torch.cdist(rebuilt, rebuilt), torch.cdist(x, x))
