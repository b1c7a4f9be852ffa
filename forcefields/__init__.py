"""Batched, differentiable CHARMM energies read from .psf + .prm files.

>>> import forcefields, torch
>>> energy = forcefields.load("dialanine.psf", "dialanine.prm", dtype=torch.float32)
>>> energy(x)          # x: (B, N, 3) nm  ->  (B,) kJ/mol
>>> energy.terms(x)    # {"bond": (B,), "angle": ..., "coulomb": ...}
"""

from forcefields.charmm_reader import read_charmm
from forcefields.energy import TERM_NAMES, Energy
from forcefields.loader import load

__all__ = ["load", "read_charmm", "Energy", "TERM_NAMES"]
