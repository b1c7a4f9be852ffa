"""Force-field parameters as flat arrays, in molgen units.

:class:`ForceFieldParameters` is what the torch energy terms are built from: one
index array and one or more parameter arrays per term, already converted to nm,
kJ/mol and radians. It knows nothing about file formats; see
:mod:`forcefields.charmm_reader` for how it is filled from CHARMM files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from forcefields.atomic_files import save_npz_atomic

__all__ = [
    "ForceFieldParameters",
    "CmapParameters",
    "empty_indices",
    "save_parameters",
    "load_parameters",
]


def empty_indices(width: int) -> np.ndarray:
    """An empty ``(0, width)`` int64 index array."""
    return np.zeros((0, width), dtype=np.int64)


@dataclass
class CmapParameters:
    """CMAP correction maps and the torsion pairs that use them.

    Attributes:
        indices: ``(T, 8)`` atom indices; the first angle is atoms 0-3, the second 4-7.
        map_index: ``(T,)`` which grid each torsion pair uses.
        grids: ``(M, n, n)`` energies in kJ/mol on an ``n × n`` grid; axis 1 is the
            first angle, axis 2 the second, both from -π in steps of 2π/n.
    """

    indices: np.ndarray = field(default_factory=lambda: empty_indices(8))
    map_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    grids: np.ndarray = field(default_factory=lambda: np.zeros((0, 1, 1)))


@dataclass
class ForceFieldParameters:
    """Every parameter of a vacuum, no-cutoff CHARMM energy.

    Harmonic terms are ``k (s - s0)²`` (no factor ½, as in CHARMM), proper
    dihedrals ``k (1 + cos(n φ - δ))``, nonbonded pairs
    ``ε[(R/r)¹² - 2(R/r)⁶] + C q_i q_j / r``.

    Attributes:
        source: where the parameters came from (file names), for messages.
        atom_names, atom_types, residue_names: ``(N,)`` strings.
        masses: ``(N,)`` amu. charges: ``(N,)`` e. atomic_numbers: ``(N,)``.
        bond_indices ``(T, 2)``, bond_k kJ/mol/nm², bond_r0 nm.
        angle_indices ``(T, 3)``, angle_k kJ/mol/rad², angle_theta0 rad.
        urey_bradley_indices ``(T, 2)``, urey_bradley_k kJ/mol/nm², urey_bradley_r0 nm.
        dihedral_indices ``(T, 4)``, dihedral_k kJ/mol, dihedral_periodicity, dihedral_phase rad
            (one row per Fourier term).
        improper_indices ``(T, 4)``, improper_k kJ/mol/rad², improper_psi0 rad.
        cmap: :class:`CmapParameters`.
        pair_indices ``(P, 2)``: every nonbonded pair (1-4 pairs included, 1-2 and
            1-3 pairs excluded); pair_rmin nm, pair_epsilon kJ/mol, pair_charge_product
            e² (1-4 scaling already applied); pair_is_14 bool.
    """

    source: str
    atom_names: np.ndarray
    atom_types: np.ndarray
    residue_names: np.ndarray
    masses: np.ndarray
    charges: np.ndarray
    atomic_numbers: np.ndarray
    bond_indices: np.ndarray
    bond_k: np.ndarray
    bond_r0: np.ndarray
    angle_indices: np.ndarray
    angle_k: np.ndarray
    angle_theta0: np.ndarray
    urey_bradley_indices: np.ndarray
    urey_bradley_k: np.ndarray
    urey_bradley_r0: np.ndarray
    dihedral_indices: np.ndarray
    dihedral_k: np.ndarray
    dihedral_periodicity: np.ndarray
    dihedral_phase: np.ndarray
    improper_indices: np.ndarray
    improper_k: np.ndarray
    improper_psi0: np.ndarray
    cmap: CmapParameters
    pair_indices: np.ndarray
    pair_rmin: np.ndarray
    pair_epsilon: np.ndarray
    pair_charge_product: np.ndarray
    pair_is_14: np.ndarray

    @property
    def n_atoms(self) -> int:
        """Number of atoms N."""
        return len(self.atom_names)

    @property
    def heavy_atoms(self) -> np.ndarray:
        """Indices of atoms that are not hydrogen, ``(N_heavy,)``."""
        return np.flatnonzero(self.atomic_numbers != 1)

    @property
    def hydrogens(self) -> np.ndarray:
        """Indices of hydrogen atoms, ``(N_H,)``."""
        return np.flatnonzero(self.atomic_numbers == 1)


def save_parameters(parameters: ForceFieldParameters, path) -> None:
    """Write ``parameters`` to an ``.npz`` archive (plain arrays, no pickled objects),
    atomically: an interrupted write leaves any earlier file at ``path`` whole. As with
    ``numpy.savez``, ``.npz`` is appended to a ``path`` that does not end in it."""
    arrays = {
        name: np.asarray(value)
        for name, value in vars(parameters).items()
        if name not in ("cmap", "source")
    }
    arrays["source"] = np.array(parameters.source)
    for name, value in vars(parameters.cmap).items():
        arrays[f"cmap_{name}"] = value
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    save_npz_atomic(path, arrays, mode=0o644)


def load_parameters(path) -> ForceFieldParameters:
    """Read parameters written by :func:`save_parameters` (no parmed or OpenMM needed)."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    cmap = CmapParameters(
        **{
            name[len("cmap_") :]: arrays.pop(name)
            for name in list(arrays)
            if name.startswith("cmap_")
        }
    )
    source = str(arrays.pop("source"))
    return ForceFieldParameters(source=source, cmap=cmap, **arrays)
