"""Unit conversions and physical constants used when reading CHARMM files.

CHARMM files use Å, kcal/mol, degrees and elementary charges; molgen uses
OpenMM's units (nm, kJ/mol, radians, e). Conversions happen once, at load time.
"""

from __future__ import annotations

import math

__all__ = [
    "KCAL_TO_KJ",
    "ANGSTROM_TO_NM",
    "DEG_TO_RAD",
    "COULOMB_CONSTANT",
    "BOLTZMANN_KJ_PER_MOL_K",
    "beta_from_temperature",
]

KCAL_TO_KJ = 4.184
ANGSTROM_TO_NM = 0.1
DEG_TO_RAD = math.pi / 180.0

COULOMB_CONSTANT = 138.93545764438198
"""1/(4π ε0) in kJ nm / (mol e²), the CODATA value OpenMM uses.

CHARMM's own constant, 332.0716 kcal Å / (mol e²) = 138.9388 kJ nm / (mol e²),
differs by 2.4e-5 relative; molgen follows OpenMM so that energies agree with it
to round-off.
"""

BOLTZMANN_KJ_PER_MOL_K = 0.008314462618
"""Molar Boltzmann constant k_B in kJ / (mol K)."""


def beta_from_temperature(temperature: float) -> float:
    """Inverse thermal energy β = 1 / (k_B T) in mol/kJ for ``temperature`` in K."""
    return 1.0 / (BOLTZMANN_KJ_PER_MOL_K * temperature)
