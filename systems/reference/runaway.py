"""Dynamics that blew up without producing NaN: atoms flung absurdly far from their molecule.

Too large a timestep can throw the atoms of a molecule apart to huge but finite
coordinates (``1e7`` nm after a few steps) that no NaN check catches; they would then be
stored, exported (mdtraj cannot even write them to a pdb) and analysed as samples. Both
molecule engines compare the distance of every atom from its molecule's centre with
:data:`RUNAWAY_DISTANCE_NM` after each iteration.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RUNAWAY_DISTANCE_NM", "farthest_from_centre", "runaway_message"]

RUNAWAY_DISTANCE_NM = 100.0
"""Farthest an atom may lie from its molecule's centre, in nm, before the dynamics count as
unstable. Bonded atoms are 0.1–0.2 nm apart, so reaching 100 nm takes a straight chain of
more than 500 bonds, far beyond the vacuum molecules sampled here (butane spans 0.5 nm,
dialanine 1 nm); stretching one bond that far would take ~10^9 kJ/mol, ~10^8 k_B T even at
1000 K. The measure is translation invariant, so the free drift of a molecule in vacuum
never trips it. (100 nm is also where the pdb format, ``%8.3f`` Å, runs out of digits for
negative coordinates.)"""


def farthest_from_centre(positions: np.ndarray) -> float:
    """Largest distance in nm of an atom from the centroid of its configuration.

    Arguments:
        positions: ``(..., N, 3)`` nm, one or more configurations of ``N`` atoms.
    """
    positions = np.asarray(positions, dtype=np.float64)
    centred = positions - positions.mean(axis=-2, keepdims=True)
    return float(np.linalg.norm(centred, axis=-1).max())


def runaway_message(distance: float) -> str:
    """What an unstable-dynamics error says about an atom ``distance`` nm from its centre."""
    return (
        f"an atom {distance:.3g} nm from its molecule's centre, more than "
        f"{RUNAWAY_DISTANCE_NM:g} nm: the molecule flew apart"
    )
