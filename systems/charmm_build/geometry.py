"""Starting coordinates from a SMILES string (RDKit), with atoms named as in the psf.

RDKit embeds the molecule with a fixed seed, the listed dihedrals are set exactly, and
the coordinates are returned in the psf atom order. RDKit numbers heavy atoms as they
appear in the SMILES and appends each heavy atom's hydrogens in turn, which is what the
naming below relies on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from rdkit import Chem
from rdkit.Chem import AllChem, rdMolTransforms

__all__ = ["StartGeometry", "start_positions", "dihedral_degrees"]


@dataclass(frozen=True)
class StartGeometry:
    """How to build starting coordinates.

    Arguments:
        smiles: heavy-atom SMILES, stereochemistry included.
        heavy_names: psf names of the SMILES atoms, in SMILES order.
        hydrogen_names: psf names of each heavy atom's hydrogens, keyed by heavy name.
        dihedrals: ``(four psf names, degrees)`` set after embedding, in order.
        seed: RDKit embedding seed.
    """

    smiles: str
    heavy_names: tuple[str, ...]
    hydrogen_names: Mapping[str, tuple[str, ...]]
    dihedrals: tuple[tuple[tuple[str, str, str, str], float], ...]
    seed: int = 20261122


def start_positions(geometry: StartGeometry, atom_order: Sequence[str]) -> np.ndarray:
    """Coordinates (nm), shape ``(n_atoms, 3)``, rows in ``atom_order`` (psf names)."""
    molecule = Chem.AddHs(Chem.MolFromSmiles(geometry.smiles))
    names = _rdkit_names(molecule, geometry)
    if sorted(names) != sorted(atom_order):
        raise ValueError(f"SMILES atoms {sorted(names)} differ from psf atoms {sorted(atom_order)}")
    parameters = AllChem.ETKDGv3()
    parameters.randomSeed = geometry.seed
    if AllChem.EmbedMolecule(molecule, parameters) != 0:
        raise RuntimeError(f"RDKit could not embed {geometry.smiles}")
    conformer = molecule.GetConformer()
    index = {name: position for position, name in enumerate(names)}
    for quartet, value in geometry.dihedrals:
        rdMolTransforms.SetDihedralDeg(conformer, *(index[name] for name in quartet), value)
    angstrom = np.array(conformer.GetPositions())
    return angstrom[[index[name] for name in atom_order]] / 10.0


def _rdkit_names(molecule: Chem.Mol, geometry: StartGeometry) -> list[str]:
    names = list(geometry.heavy_names)
    if molecule.GetNumHeavyAtoms() != len(names):
        raise ValueError(f"{geometry.smiles} has {molecule.GetNumHeavyAtoms()} heavy atoms")
    names += [""] * (molecule.GetNumAtoms() - len(names))
    for heavy, heavy_name in enumerate(geometry.heavy_names):
        hydrogens = sorted(
            neighbour.GetIdx()
            for neighbour in molecule.GetAtomWithIdx(heavy).GetNeighbors()
            if neighbour.GetAtomicNum() == 1
        )
        wanted = geometry.hydrogen_names.get(heavy_name, ())
        if len(hydrogens) != len(wanted):
            raise ValueError(f"{heavy_name} carries {len(hydrogens)} hydrogens, names {wanted}")
        for hydrogen, name in zip(hydrogens, wanted, strict=True):
            names[hydrogen] = name
    return names


def dihedral_degrees(positions: np.ndarray, atoms: Sequence[int]) -> float:
    """Dihedral angle (degrees, in (-180, 180]) of four atoms of ``positions`` ``(n_atoms, 3)``."""
    p0, p1, p2, p3 = (positions[index] for index in atoms)
    b0, b1, b2 = p1 - p0, p2 - p1, p3 - p2
    normal = np.cross(b1, b2)
    sine = np.linalg.norm(b1) * np.dot(b0, normal)
    cosine = np.dot(np.cross(b0, b1), normal)
    return float(np.degrees(np.arctan2(sine, cosine)))
