"""PDB text of a topology and coordinates, written by hand so that it carries no date and
keeps four-letter residue names (OpenMM's writer truncates ``ALAD`` to ``ALA``).

Records follow PDB v3.3 columns; a four-letter residue name also fills column 21, as
CHARMM writes it and OpenMM and mdtraj read it. Every bond gets a CONECT record.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import openmm.app as app

__all__ = ["pdb_text", "split_residues"]

_AMINO_ACIDS = frozenset(
    "ALA ARG ASN ASP CYS GLN GLU GLY HIS ILE LEU LYS MET PHE PRO SER THR TRP TYR VAL".split()
)
_ANGSTROM_PER_NM = 10.0


def pdb_text(topology: app.Topology, positions: np.ndarray) -> str:
    """ATOM/HETATM, TER, CONECT and END records of ``positions`` (nm, ``(n_atoms, 3)``).

    Chains are lettered A, B, ...; residues keep their ids; coordinates are in Å with
    three decimals.
    """
    lines: list[str] = []
    serial: dict[int, int] = {}
    for chain_index, chain in enumerate(topology.chains()):
        chain_id = chr(ord("A") + chain_index)
        residues = list(chain.residues())
        for residue in residues:
            for atom in residue.atoms():
                serial[atom.index] = len(lines) + 1
                x, y, z = positions[atom.index] * _ANGSTROM_PER_NM
                lines.append(
                    f"{_record(residue.name)}{serial[atom.index]:5d} {_atom_name(atom)} "
                    f"{_residue_name(residue.name)}{chain_id}{int(residue.id):4d}    "
                    f"{x:8.3f}{y:8.3f}{z:8.3f}{1.0:6.2f}{0.0:6.2f}          "
                    f"{atom.element.symbol:>2s}"
                )
        last = residues[-1]
        lines.append(
            f"TER   {len(lines) + 1:5d}      {_residue_name(last.name)}{chain_id}{int(last.id):4d}"
        )
    lines += _conect_lines(topology, serial)
    return "\n".join([*lines, "END"]) + "\n"


def _record(residue_name: str) -> str:
    return "ATOM  " if residue_name in _AMINO_ACIDS else "HETATM"


def _atom_name(atom: app.topology.Atom) -> str:
    """Four columns; names shorter than four of one-letter elements start in column 14."""
    if len(atom.name) < 4 and len(atom.element.symbol) == 1:
        return f" {atom.name:<3s}"
    return f"{atom.name:<4s}"


def _residue_name(name: str) -> str:
    """Columns 18-21: right-justified in 18-20 when three letters or fewer."""
    return f"{name:>3s} " if len(name) <= 3 else f"{name:<4s}"


def _conect_lines(topology: app.Topology, serial: dict[int, int]) -> list[str]:
    partners: dict[int, list[int]] = {number: [] for number in serial.values()}
    for first, second in topology.bonds():
        partners[serial[first.index]].append(serial[second.index])
        partners[serial[second.index]].append(serial[first.index])
    lines = []
    for number in sorted(partners):
        bonded = sorted(partners[number])
        for start in range(0, len(bonded), 4):
            lines.append(
                f"CONECT{number:5d}" + "".join(f"{b:5d}" for b in bonded[start : start + 4])
            )
    return lines


def split_residues(
    topology: app.Topology, residues: Sequence[tuple[str, Sequence[tuple[str, str]]]]
) -> app.Topology:
    """A copy of a one-residue ``topology`` cut into consecutive, renamed residues.

    Arguments:
        topology: atoms in psf order.
        residues: ``(residue name, [(psf atom name, new atom name), ...])`` in order; the
            psf names, concatenated, must be the topology's atoms in order.
    """
    atoms = list(topology.atoms())
    wanted = [old for _, pairs in residues for old, _ in pairs]
    if wanted != [atom.name for atom in atoms]:
        raise ValueError(f"residue split {wanted} does not follow the psf order")
    split = app.Topology()
    chain = split.addChain()
    copies = []
    for number, (residue_name, pairs) in enumerate(residues, start=1):
        residue = split.addResidue(residue_name, chain, id=str(number))
        for _, new_name in pairs:
            copies.append(split.addAtom(new_name, atoms[len(copies)].element, residue))
    for first, second in topology.bonds():
        split.addBond(copies[first.index], copies[second.index])
    return split
