"""The bond graph of a system from its psf, and the heavy atom each hydrogen hangs on.

The psf lists every bond the force field uses; a pdb may list none (no ``CONECT``
records), so bonds are taken from the psf.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forcefields.errors import InputFileError

__all__ = ["PsfBonds", "read_psf_bonds", "hydrogen_parents"]


@dataclass(frozen=True)
class PsfBonds:
    """Atom names ``(N,)`` and bonds ``(K, 2)`` (0-based int64 atom indices) of ``psf``."""

    psf: Path
    atom_names: np.ndarray
    bonds: np.ndarray

    @property
    def n_atoms(self) -> int:
        """Number of atoms the psf defines."""
        return len(self.atom_names)


def read_psf_bonds(psf: Path, system_name: str) -> PsfBonds:
    """Atom names and bonds of ``psf``, the topology of system ``system_name``.

    Raises:
        InputFileError: a truncated psf or one whose bonded terms name undefined atoms
            (the message names the line), or parmed cannot read ``psf`` (the message
            names the system).
    """
    import parmed

    from forcefields.charmm_reader import check_psf_layout

    try:
        check_psf_layout(Path(psf))
    except InputFileError as error:
        raise InputFileError(f"{error} (psf of system {system_name!r})") from error
    try:
        structure = parmed.charmm.CharmmPsfFile(str(psf))
    except Exception as error:  # parmed raises many unrelated types on bad input
        message = str(error).strip().split("\n")[0] or type(error).__name__
        raise InputFileError(
            f"{psf}: psf of system {system_name!r} is not a readable CHARMM psf ({message})"
        ) from error
    bonds = np.array(
        [(bond.atom1.idx, bond.atom2.idx) for bond in structure.bonds], dtype=np.int64
    ).reshape(-1, 2)
    return PsfBonds(Path(psf), np.array([atom.name for atom in structure.atoms]), bonds)


def hydrogen_parents(
    psf_bonds: PsfBonds, hydrogens: np.ndarray, heavy_atoms: np.ndarray, system_name: str
) -> np.ndarray:
    """The heavy atom bonded to each hydrogen, ``(N_H,)`` int64, aligned with ``hydrogens``.

    Arguments:
        psf_bonds: the system's psf bonds.
        hydrogens, heavy_atoms: atom indices ``(N_H,)`` and ``(N_C,)``.
        system_name: for error messages.

    Raises:
        InputFileError: a hydrogen has no bond to a heavy atom in the psf.
    """
    heavy = set(heavy_atoms.tolist())
    parent: dict[int, int] = {}
    for a, b in psf_bonds.bonds.tolist():
        if b in heavy:
            parent.setdefault(a, b)
        if a in heavy:
            parent.setdefault(b, a)
    orphans = [int(h) for h in hydrogens if int(h) not in parent]
    if orphans:
        first = orphans[0]
        raise InputFileError(
            f"{psf_bonds.psf}: hydrogen {psf_bonds.atom_names[first]} (atom {first + 1}) of "
            f"system {system_name!r} is bonded to no heavy atom in the psf"
        )
    return np.array([parent[int(h)] for h in hydrogens], dtype=np.int64)
