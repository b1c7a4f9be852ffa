"""Local frames in which hydrogens are placed: a rotation per hydrogen, from heavy atoms.

Each hydrogen ``H`` bonded to heavy atom ``P`` gets an orthonormal frame built from
``P``, a heavy neighbour ``A`` of ``P`` and a third heavy atom ``B`` (another
neighbour of ``P``, else a neighbour of ``A``): ``e1`` along ``A - P``, ``e2`` the part
of ``B - P`` orthogonal to ``e1``, ``e3 = e1 × e2``. Hydrogen offsets expressed in
this frame hardly change when the heavy atoms move (a CH₂ hydrogen is nearly fixed
in it; a methyl hydrogen moves on a circle), which is much easier for a flow than
offsets in the laboratory frame. The change of frame is a rotation: its Jacobian is
1, so densities over local offsets are densities over hydrogen positions.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["frame_atoms", "local_frames"]


def frame_atoms(heavy_atoms, hydrogen_parents, bonds) -> np.ndarray:
    """``(N_H, 2)`` atoms ``(A, B)`` defining each hydrogen's frame (global indices).

    Arguments:
        heavy_atoms: ``(N_C,)`` indices. hydrogen_parents: ``(N_H,)`` parent of each H.
        bonds: iterable of ``(i, j)`` bonded atom pairs (all atoms).

    Raises:
        ValueError: a parent without a heavy neighbour or no third heavy atom nearby
            (molecules of fewer than three heavy atoms).
    """
    heavy = set(int(a) for a in heavy_atoms)
    neighbours: dict[int, list[int]] = {a: [] for a in heavy}
    for i, j in bonds:
        i, j = int(i), int(j)
        if i in heavy and j in heavy:
            neighbours[i].append(j)
            neighbours[j].append(i)
    rows = []
    for parent in hydrogen_parents:
        parent = int(parent)
        around = sorted(neighbours[parent])
        if not around:
            raise ValueError(f"atom {parent} has no heavy neighbour to orient its hydrogens")
        first = around[0]
        second = (
            around[1]
            if len(around) > 1
            else next((a for a in sorted(neighbours[first]) if a != parent), None)
        )
        if second is None:
            raise ValueError(f"no third heavy atom near atom {parent} to orient its hydrogens")
        rows.append((first, second))
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


def local_frames(
    heavy: torch.Tensor,
    parent_rows: torch.Tensor,
    first_rows: torch.Tensor,
    second_rows: torch.Tensor,
) -> torch.Tensor:
    """Rotation matrices ``(B, N_H, 3, 3)`` whose columns are ``e1, e2, e3``.

    Arguments:
        heavy: ``(B, N_C, 3)`` heavy-atom coordinates.
        parent_rows, first_rows, second_rows: ``(N_H,)`` rows of ``P``, ``A``, ``B`` in ``heavy``.

    A laboratory-frame offset is ``R @ local``; a local offset is ``Rᵀ @ offset``.
    """
    parent = heavy[:, parent_rows]
    e1 = heavy[:, first_rows] - parent
    e1 = e1 / e1.norm(dim=-1, keepdim=True)
    other = heavy[:, second_rows] - parent
    e2 = other - (other * e1).sum(-1, keepdim=True) * e1
    e2 = e2 / e2.norm(dim=-1, keepdim=True)
    e3 = torch.cross(e1, e2, dim=-1)
    return torch.stack([e1, e2, e3], dim=-1)
