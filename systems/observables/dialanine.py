"""Alanine dipeptide's backbone dihedrals φ, ψ and its conformational states.

States are rectangles of the Ramachandran plane, as in the state definitions
widely used for short alanine peptides in the Markov-state-model literature
(e.g. MSMBuilder's alanine examples): the left-handed region is φ > 0, and for
φ ≤ 0 the right-handed helix band -100° ≤ ψ ≤ 50° is separated from the extended
region. In vacuum the extended region holds C7eq (φ, ψ ≈ -80°, 80°) and C5, and
the φ > 0 region holds C7ax (≈ 70°, -70°) and αL. The φ > 0 region is the
thesis's "minor mode" (thesis §4, about 6 % of the reference data).

The rectangles are cut at φ = 0 and not at the barriers, so the β/C5 basin, which
extends across the φ = ±180° seam, has its φ > 0 part (φ in about (120°, 180°])
labelled C7ax. The definition follows the thesis and is kept; ``molgen evaluate``
reports the fraction with φ > :data:`SEAM_PHI` separately for dialanine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from systems.observables._arrays import ArrayLike, like, to_torch, wrap_angle
from systems.observables.geometry import dihedral

__all__ = [
    "DIALANINE_STATES",
    "ALPHA_R_PSI_RANGE",
    "SEAM_PHI",
    "phi_psi",
    "dialanine_states",
    "minor_mode",
]

DIALANINE_STATES = ("C7eq", "alphaR", "C7ax")
"""Names of labels 0 (C7eq/β, extended), 1 (αR) and 2 (C7ax/αL) of :func:`dialanine_states`."""

ALPHA_R_PSI_RANGE = (math.radians(-100.0), math.radians(50.0))
"""Closed ψ interval (radians) of the αR state, for φ ≤ 0."""

SEAM_PHI = math.radians(120.0)
"""φ (radians) above which a C7ax-labelled (φ > 0) point lies in the β/C5 basin across the
φ = ±180° seam rather than in the C7ax/αL basins."""


def phi_psi(
    x: ArrayLike, phi_indices: Sequence[int], psi_indices: Sequence[int]
) -> tuple[ArrayLike, ArrayLike]:
    """Backbone dihedrals (φ, ψ) in radians, in (-π, π], each ``(B,)``.

    ``phi_indices``: C(ACE), N, CA, C; ``psi_indices``: N, CA, C, N(NME).
    """
    return dihedral(x, *phi_indices), dihedral(x, *psi_indices)


def dialanine_states(phi: ArrayLike, psi: ArrayLike) -> ArrayLike:
    """State labels (int64) from φ, ψ in radians; names in :data:`DIALANINE_STATES`.

    - 2, C7ax/αL: φ > 0 (this includes φ in (120°, 180°], the part of the β/C5 basin
      beyond the φ = ±180° seam; see the module docstring)
    - 1, αR: φ ≤ 0 and -100° ≤ ψ ≤ 50°
    - 0, C7eq/β: every other point (φ ≤ 0, ψ > 50° or ψ < -100°)

    Angles outside (-π, π] (e.g. on [0, 2π)) are wrapped first. A NaN or infinite
    angle still gets a label (the last branch); callers mask non-finite input.
    """
    phis, psis = wrap_angle(to_torch(phi)), wrap_angle(to_torch(psi))
    low, high = ALPHA_R_PSI_RANGE
    alpha_r = (psis >= low) & (psis <= high)
    labels = torch.where(phis > 0, 2, torch.where(alpha_r, 1, 0))
    return like(labels.to(torch.int64), phi)


def minor_mode(phi: ArrayLike) -> ArrayLike:
    """Boolean mask of the thesis's minor mode, φ > 0 (radians), same shape as ``phi``.

    Like state 2 of :func:`dialanine_states`, it includes φ in (120°, 180°] (β/C5 across
    the seam). Angles outside (-π, π] are wrapped first.
    """
    return like(wrap_angle(to_torch(phi)) > 0, phi)
