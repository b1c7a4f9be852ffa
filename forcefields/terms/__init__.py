"""One module per CHARMM energy term; each term maps ``(B, N, 3)`` nm to ``(B,)`` kJ/mol."""

from forcefields.terms.angles import HarmonicAngles
from forcefields.terms.cmap import CmapTorsions
from forcefields.terms.dihedrals import PeriodicTorsions
from forcefields.terms.distances import HarmonicDistances
from forcefields.terms.impropers import HarmonicImpropers
from forcefields.terms.nonbonded import Coulomb, LennardJones

__all__ = [
    "HarmonicDistances",
    "HarmonicAngles",
    "PeriodicTorsions",
    "HarmonicImpropers",
    "CmapTorsions",
    "LennardJones",
    "Coulomb",
]
