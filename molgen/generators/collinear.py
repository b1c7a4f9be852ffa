"""Refuse molecules whose reference structure makes a placement frame degenerate.

A torsion about a bond, or a hydrogen's local frame, needs three atoms that are not on one
line. Linear groups (an alkyne's C≡C-H, a nitrile's C-C≡N) put them on a line, and the
torsion or frame is then set by noise: the generator would train on meaningless
coordinates without any error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from forcefields.errors import ConfigError

__all__ = ["MIN_ANGLE_DEGREES", "refuse_collinear"]

MIN_ANGLE_DEGREES = 5.0
"""How far from 0° or 180° the angle at the middle atom of a triple must be."""


def refuse_collinear(
    positions: np.ndarray, triples: np.ndarray, names: Sequence[str], what: str
) -> None:
    """Raise :class:`ConfigError` if any triple ``(a, centre, b)`` of ``triples`` ``(T, 3)``
    has its angle at ``centre`` within :data:`MIN_ANGLE_DEGREES` of 0° or 180° in
    ``positions`` ``(N, 3)`` nm; the message names the atoms (``names`` ``(N,)``) and
    ``what`` uses the triples."""
    triples = np.asarray(triples, dtype=np.int64).reshape(-1, 3)
    u = positions[triples[:, 0]] - positions[triples[:, 1]]
    v = positions[triples[:, 2]] - positions[triples[:, 1]]
    sine = np.linalg.norm(np.cross(u, v), axis=-1) / (
        np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1)
    )
    degenerate = np.flatnonzero(~(sine >= math.sin(math.radians(MIN_ANGLE_DEGREES))))
    if len(degenerate):
        listed = ", ".join(
            "-".join(f"{names[atom]} ({atom})" for atom in triples[row]) for row in degenerate[:5]
        )
        raise ConfigError(
            f"{what}: atoms on a line in the reference structure ({listed}); a torsion or "
            "local frame through them is undefined (linear groups such as alkynes and "
            "nitriles are not supported)"
        )
