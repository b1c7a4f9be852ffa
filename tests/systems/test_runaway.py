"""The bound on how far an atom may fly from its molecule's centre before the dynamics
count as unstable."""

from __future__ import annotations

import numpy as np

from systems.reference.runaway import RUNAWAY_DISTANCE_NM, farthest_from_centre
from systems.reference.targets import reference_target


def test_a_molecule_drifting_far_away_is_not_a_runaway():
    """Only the spread counts: a molecule in vacuum drifts freely."""
    positions = reference_target("butane").positions
    drifted = positions + np.array([1e4, -1e4, 5e3])
    assert farthest_from_centre(drifted) == farthest_from_centre(positions)
    assert farthest_from_centre(drifted) < 1.0 < RUNAWAY_DISTANCE_NM


def test_one_atom_flung_away_is_measured_from_the_centroid():
    positions = np.zeros((2, 4, 3))
    positions[1, 3, 0] = 400.0  # the second configuration's centroid is at x = 100
    assert farthest_from_centre(positions) == 300.0
