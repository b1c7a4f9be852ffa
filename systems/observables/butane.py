"""Butane's C-C-C-C dihedral and its three conformational modes (thesis eq 29)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from systems.observables._arrays import ArrayLike, like, to_torch, wrap_angle
from systems.observables.geometry import dihedral

__all__ = ["BUTANE_MODES", "BUTANE_MODE_BOUNDARIES", "butane_dihedral", "butane_modes"]

BUTANE_MODES = ("gauche+", "trans", "gauche-")
"""Names of the labels 0, 1, 2 returned by :func:`butane_modes`."""

BUTANE_MODE_BOUNDARIES = (120.0, 240.0)
"""Mode boundaries of the dihedral in degrees on [0°, 360°) (thesis eq 29)."""

_TRANS_MIN = math.radians(BUTANE_MODE_BOUNDARIES[0])


def butane_dihedral(x: ArrayLike, indices: Sequence[int]) -> ArrayLike:
    """C1-C2-C3-C4 dihedral in radians, in (-π, π], ``(B,)``; ``indices`` the four carbons."""
    first, second, third, fourth = indices
    return dihedral(x, first, second, third, fourth)


def butane_modes(angle: ArrayLike) -> ArrayLike:
    """Mode labels (int64) of C-C-C-C dihedrals ``angle`` in radians (any shape).

    Thesis eq 29 maps the dihedral to [0°, 360°) and splits it at 120° and 240°,
    both boundaries belonging to the middle mode. With the IUPAC sign
    (trans = 180°, gauche+ = +60°, gauche- = -60° = 300°):

    - 0, gauche+: 0° ≤ dihedral < 120°
    - 1, trans: 120° ≤ dihedral ≤ 240°, i.e. |angle| ≥ 120°
    - 2, gauche-: 240° < dihedral < 360°, i.e. -120° < angle < 0°

    Angles outside (-π, π] (e.g. on [0, 2π)) are wrapped first. A NaN or infinite
    angle still gets a label (the last branch); callers mask non-finite input.
    """
    values = wrap_angle(to_torch(angle))
    trans = values.abs() >= _TRANS_MIN
    labels = torch.where(trans, 1, torch.where(values >= 0, 0, 2))
    return like(labels.to(torch.int64), angle)
