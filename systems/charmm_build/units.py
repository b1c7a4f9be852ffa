"""Unit conversions between OpenMM (nm, kJ/mol, rad) and CHARMM files (Å, kcal/mol, degrees).

CHARMM writes harmonic terms as ``K (x - x0)**2`` whereas OpenMM's harmonic forces use
``k/2 (x - x0)**2``, so bond, angle and Urey–Bradley constants carry a factor 2. CHARMM
impropers ``K (psi - psi0)**2`` and OpenMM's ``k (theta - theta0)**2`` share the form.
"""

from __future__ import annotations

import math

__all__ = [
    "KJ_PER_KCAL",
    "ANGSTROM_PER_NM",
    "kcal",
    "angstrom",
    "degrees",
    "harmonic_length_constant",
    "harmonic_angle_constant",
    "rmin_half_from_sigma",
]

KJ_PER_KCAL = 4.184
ANGSTROM_PER_NM = 10.0


def kcal(energy_kj: float) -> float:
    """kJ/mol -> kcal/mol."""
    return energy_kj / KJ_PER_KCAL


def angstrom(length_nm: float) -> float:
    """nm -> Å."""
    return length_nm * ANGSTROM_PER_NM


def degrees(angle_rad: float) -> float:
    """rad -> degrees."""
    return math.degrees(angle_rad)


def harmonic_length_constant(k_openmm: float) -> float:
    """OpenMM ``k`` in kJ/mol/nm² of ``k/2 (r - r0)²`` -> CHARMM ``Kb`` in kcal/mol/Å²."""
    return kcal(k_openmm) / 2.0 / ANGSTROM_PER_NM**2


def harmonic_angle_constant(k_openmm: float) -> float:
    """OpenMM ``k`` in kJ/mol/rad² of ``k/2 (θ - θ0)²`` -> CHARMM ``Ktheta`` in kcal/mol/rad²."""
    return kcal(k_openmm) / 2.0


def rmin_half_from_sigma(sigma_nm: float) -> float:
    """Lennard-Jones ``sigma`` in nm -> CHARMM ``Rmin/2`` in Å (``Rmin = 2^(1/6) sigma``)."""
    return angstrom(sigma_nm) * 2.0 ** (1.0 / 6.0) / 2.0
