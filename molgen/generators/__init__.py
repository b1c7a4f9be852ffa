"""Molecular Boltzmann generators: heavy atoms from a flow, hydrogens from a second stage."""

from molgen.generators.chirality import d_fraction, is_d_residue
from molgen.generators.hydrogens import DeterministicHydrogens, HydrogenFlow
from molgen.generators.molecular import MolecularGenerator, build_generator

__all__ = [
    "MolecularGenerator",
    "build_generator",
    "DeterministicHydrogens",
    "HydrogenFlow",
    "is_d_residue",
    "d_fraction",
]
