"""Batched, differentiable CHARMM energies read from .psf + .prm files.

>>> import forcefields, systems, torch
>>> dialanine = systems.load("dialanine")
>>> energy = forcefields.load(dialanine.psf, dialanine.prm, dtype=torch.float32)
>>> x = torch.as_tensor(dialanine.positions, dtype=torch.float32)[None]  # (B, N, 3) nm
>>> energy(x).shape  # (B,) kJ/mol
torch.Size([1])
>>> sorted(energy.terms(x))
['angle', 'bond', 'cmap', 'coulomb', 'dihedral', 'improper', 'lj', 'urey_bradley']
"""

from forcefields.charmm_reader import read_charmm
from forcefields.energy import TERM_NAMES, Energy
from forcefields.loader import load

__all__ = ["load", "read_charmm", "Energy", "TERM_NAMES"]
