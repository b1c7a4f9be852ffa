"""Chirality at the alanine Cα: a mirror image has the same force-field energy.

Nothing in a CHARMM energy distinguishes L from D alanine, so a generator may
produce D samples. They are counted by the sign of the signed volume of
(N, C, Cβ) around Cα (positive for L; cross-checked against RDKit's CIP labels in
the observables' tests).
"""

from __future__ import annotations

import torch

from systems.observables import signed_volume

__all__ = ["DIALANINE_CHIRAL_CENTRE", "is_d_residue", "d_fraction"]

DIALANINE_CHIRAL_CENTRE = (8, 6, 14, 10)
"""Atom indices (Cα, N, C, Cβ) of dialanine in the psf order."""


def is_d_residue(x: torch.Tensor, centre=DIALANINE_CHIRAL_CENTRE) -> torch.Tensor:
    """``(B,)`` bool: samples ``x`` ``(B, N, 3)`` whose residue has the D configuration."""
    return signed_volume(x, *centre) < 0


def d_fraction(x: torch.Tensor, centre=DIALANINE_CHIRAL_CENTRE) -> float:
    """Fraction of D samples among ``x`` ``(B, N, 3)``."""
    return float(is_d_residue(x, centre).double().mean())
