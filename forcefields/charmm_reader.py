"""Read CHARMM ``.psf`` + ``.prm`` files (through parmed) into :class:`ForceFieldParameters`.

Conventions follow CHARMM as OpenMM's ``CharmmPsfFile.createSystem`` applies
them in vacuum without cutoff:

* 1-2 and 1-3 pairs (from the bond graph) are excluded from Lennard-Jones and
  Coulomb; 1-4 pairs (from the bond graph, minus 1-2/1-3 pairs, as in rings) use
  the special 1-4 Lennard-Jones parameters and Coulomb scaled by ``E14FAC``.
* Lennard-Jones combines ε_ij = sqrt(ε_i ε_j), R_ij = R_i/2 + R_j/2, unless an
  ``NBFIX`` entry gives the pair of types its own ε and R.
* Urey-Bradley terms are read from the ANGLES section.
* Improper parameters are looked up in CHARMM's order (exact types, then
  wildcard forms; see :mod:`forcefields.charmm_impropers`), not parmed's.
* ``E14FAC`` and ``NBXMOD`` come from the NONBONDED headers
  (:mod:`forcefields.charmm_nonbonded_options`); only ``NBXMOD 5`` is supported.
  parmed never sees ``E14FAC`` (:mod:`forcefields.charmm_parameter_set`).
* Dihedrals are periodic, k (1 + cos(n φ - δ)) with n > 0; CHARMM's harmonic
  dihedral (n = 0) is refused, as is a cross-term listed against its CMAP line's
  order (:mod:`forcefields.charmm_term_checks`).
* Lone pairs, Drude particles and other virtual sites (mass 0) are not supported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from forcefields.charmm_parameter_set import one_line, read_parameter_set
from forcefields.charmm_term_checks import (
    check_cmap_directions,
    check_dihedral_multiplicities,
    psf_atom_message,
)
from forcefields.errors import InputFileError, MissingParameterError
from forcefields.parameters import CmapParameters, ForceFieldParameters, empty_indices
from forcefields.units import ANGSTROM_TO_NM, DEG_TO_RAD, KCAL_TO_KJ

__all__ = ["read_charmm", "PathLike"]

PathLike = str | Path

_BOND_K = KCAL_TO_KJ / ANGSTROM_TO_NM**2

_PSF_SECTION = re.compile(r"^\s*(-?[0-9]+)(?:\s+-?[0-9]+)*\s*!(N[A-Z]+)")
_PSF_INDEX = re.compile(r"^-?[0-9]+$")
_REQUIRED_PSF_SECTIONS = ("NTITLE", "NATOM", "NBOND", "NTHETA", "NPHI", "NIMPHI")
_PSF_INDEX_SECTIONS = frozenset({"NBOND", "NTHETA", "NPHI", "NIMPHI", "NCRTERM"})


def _psf_sections(lines: list[str]) -> dict[str, tuple[int, int]]:
    """``{section name: (header line index, count)}`` of the ``!N...`` headers of a psf."""
    sections = {}
    for number, line in enumerate(lines):
        match = _PSF_SECTION.match(line)
        if match:
            sections.setdefault(match.group(2), (number, int(match.group(1))))
    return sections


def _section_length(lines: list[str], start: int) -> int:
    """Number of lines after the header at ``start`` up to the next blank line."""
    end = start + 1
    while end < len(lines) and lines[end].strip():
        end += 1
    return end - start - 1


def _check_psf_indices(psf: Path, lines: list[str], section: str, start: int, n_atoms: int):
    """Raise unless the atom indices under the header at line ``start`` lie in 1..n_atoms."""
    for number in range(start + 1, len(lines)):
        tokens = lines[number].split()
        if not tokens:
            return
        for token in tokens:
            if not _PSF_INDEX.match(token):
                raise InputFileError(
                    f"{psf}: line {number + 1}: !{section} expects atom indices, got {token!r}"
                )
            if not 1 <= int(token) <= n_atoms:
                raise InputFileError(
                    f"{psf}: line {number + 1}: !{section} atom index {token} is outside "
                    f"1..{n_atoms}"
                )


def check_psf_layout(psf: Path) -> None:
    """Raise :class:`InputFileError` for a psf that lacks a section the energy needs
    (a truncated file) or whose bonded terms name atoms it does not define."""
    try:
        lines = psf.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InputFileError(
            f"{psf}: not a readable CHARMM psf file ({one_line(error)})"
        ) from error
    if not lines or not lines[0].startswith("PSF"):
        raise InputFileError(f"{psf}: line 1: not a CHARMM psf file (expected 'PSF ...')")
    sections = _psf_sections(lines)
    required = _REQUIRED_PSF_SECTIONS + (("NCRTERM",) if "CMAP" in lines[0].split() else ())
    for name in required:
        if name not in sections:
            raise InputFileError(f"{psf}: section !{name} missing (truncated or malformed psf)")
    start, n_atoms = sections["NATOM"]
    atom_lines = _section_length(lines, start)
    if atom_lines != n_atoms:
        raise InputFileError(
            f"{psf}: line {start + 1}: !NATOM says {n_atoms} atoms, the section has {atom_lines} "
            "lines"
        )
    for name, (start, _) in sections.items():
        if name in _PSF_INDEX_SECTIONS:
            _check_psf_indices(psf, lines, name, start, n_atoms)
    if sections.get("NUMLP", (0, 0))[1] > 0:
        start, count = sections["NUMLP"]
        raise InputFileError(
            f"{psf}: line {start + 1}: !NUMLP declares {count} lone pair(s); lone pairs and "
            "other virtual sites are not supported"
        )


def _read_psf(psf: Path):
    import parmed

    if not psf.is_file():
        raise InputFileError(f"{psf}: psf file not found")
    check_psf_layout(psf)
    try:
        return parmed.charmm.CharmmPsfFile(str(psf))
    except Exception as error:  # parmed raises many unrelated types on bad input
        raise InputFileError(
            f"{psf}: not a readable CHARMM psf file ({one_line(error)})"
        ) from error


def _check_atoms(psf: Path, structure) -> None:
    """Raise :class:`InputFileError` for a non-finite charge, a mass that is not a finite
    number > 0, or a lone pair or Drude particle (virtual sites are not supported)."""
    import parmed

    for number, atom in enumerate(structure.atoms, start=1):
        if not np.isfinite(atom.charge):
            raise InputFileError(
                f"{psf}: atom {number} ({atom.name}): charge {atom.charge} is not finite"
            )
        if isinstance(atom, parmed.ExtraPoint | parmed.DrudeAtom) or not (
            np.isfinite(atom.mass) and atom.mass > 0
        ):
            raise InputFileError(
                f"{psf}: atom {number} ({atom.name}, mass {atom.mass}): a lone pair, Drude "
                "particle or other massless site; virtual sites are not supported (every atom "
                "needs a finite mass > 0)"
            )


def _check_lennard_jones_types(source: str, structure) -> None:
    """Raise for an atom type of the psf without finite NONBONDED parameters:
    :class:`MissingParameterError` when they are absent, :class:`InputFileError` when
    one is NaN or infinite."""
    for number, atom in enumerate(structure.atoms, start=1):
        atom_type = atom.atom_type
        values = (atom_type.rmin, atom_type.epsilon, atom_type.rmin_14, atom_type.epsilon_14)
        where = f"atom type {atom.type} (psf atom {number} {atom.name})"
        if any(value is None for value in values):
            raise MissingParameterError(
                f"{source}: no NONBONDED (Lennard-Jones) parameters for {where}"
            )
        if not np.isfinite(np.asarray(values, dtype=np.float64)).all():
            raise InputFileError(f"{source}: non-finite NONBONDED parameter for {where}")


def _check_finite_parameters(parameters: ForceFieldParameters) -> None:
    """Raise :class:`InputFileError` naming the first parameter array with a NaN or infinity."""
    for name, value in vars(parameters).items():
        if (
            isinstance(value, np.ndarray)
            and value.dtype.kind == "f"
            and not np.isfinite(value).all()
        ):
            raise InputFileError(f"{parameters.source}: non-finite value in {name}")
    if not np.isfinite(parameters.cmap.grids).all():
        raise InputFileError(f"{parameters.source}: non-finite value in a CMAP grid")


def _bond_graph_pairs(n_atoms: int, bonds: np.ndarray) -> tuple[set, set, set]:
    """1-2, 1-3 and 1-4 pairs ``(i, j), i < j`` of the bond graph, 1-4 minus 1-2 and 1-3."""
    neighbours: list[set[int]] = [set() for _ in range(n_atoms)]
    for i, j in bonds:
        neighbours[i].add(j)
        neighbours[j].add(i)

    def pair(a: int, b: int) -> tuple[int, int]:
        return (min(a, b), max(a, b))

    pairs_12 = {pair(i, j) for i, j in bonds}
    pairs_13 = set()
    pairs_14 = set()
    for j, k in bonds:
        for i in neighbours[j]:
            if i != k:
                pairs_13.add(pair(i, k))
            for l in neighbours[k]:
                if i != k and l != j and i != l:
                    pairs_14.add(pair(i, l))
        for l in neighbours[k]:
            if l != j:
                pairs_13.add(pair(j, l))
    pairs_13 -= pairs_12
    pairs_14 -= pairs_12 | pairs_13
    return pairs_12, pairs_13, pairs_14


def _lennard_jones(atom_a, atom_b, is_14: bool) -> tuple[float, float]:
    """(R_min in nm, ε in kJ/mol) of one pair, honouring NBFIX."""
    type_a, type_b = atom_a.atom_type, atom_b.atom_type
    nbfix = getattr(type_a, "nbfix", None) or {}
    if type_b.name in nbfix:
        rmin, emin, rmin14, emin14 = nbfix[type_b.name]
        if is_14 and rmin14 is not None:
            rmin, emin = rmin14, emin14
        return rmin * ANGSTROM_TO_NM, abs(emin) * KCAL_TO_KJ
    if is_14:
        rmin = type_a.rmin_14 + type_b.rmin_14
        epsilon = np.sqrt(abs(type_a.epsilon_14 * type_b.epsilon_14))
    else:
        rmin = type_a.rmin + type_b.rmin
        epsilon = np.sqrt(abs(type_a.epsilon * type_b.epsilon))
    return rmin * ANGSTROM_TO_NM, epsilon * KCAL_TO_KJ


def _nonbonded_pairs(structure, bonds: np.ndarray, e14fac: float) -> dict[str, np.ndarray]:
    n_atoms = len(structure.atoms)
    pairs_12, pairs_13, pairs_14 = _bond_graph_pairs(n_atoms, bonds)
    excluded = pairs_12 | pairs_13
    charges = np.array([atom.charge for atom in structure.atoms], dtype=np.float64)
    rows = []
    for i in range(n_atoms):
        for j in range(i + 1, n_atoms):
            if (i, j) in excluded:
                continue
            is_14 = (i, j) in pairs_14
            rmin, epsilon = _lennard_jones(structure.atoms[i], structure.atoms[j], is_14)
            scale = e14fac if is_14 else 1.0
            rows.append((i, j, rmin, epsilon, scale * charges[i] * charges[j], is_14))
    if not rows:
        return {
            "pair_indices": empty_indices(2),
            "pair_rmin": np.zeros(0),
            "pair_epsilon": np.zeros(0),
            "pair_charge_product": np.zeros(0),
            "pair_is_14": np.zeros(0, dtype=bool),
        }
    i, j, rmin, epsilon, qq, is_14 = zip(*rows, strict=True)
    return {
        "pair_indices": np.stack([i, j], axis=1).astype(np.int64),
        "pair_rmin": np.array(rmin),
        "pair_epsilon": np.array(epsilon),
        "pair_charge_product": np.array(qq),
        "pair_is_14": np.array(is_14, dtype=bool),
    }


def _indices(terms, n_atoms_per_term: int) -> np.ndarray:
    names = ["atom1", "atom2", "atom3", "atom4", "atom5"][:n_atoms_per_term]
    if not terms:
        return empty_indices(n_atoms_per_term)
    return np.array([[getattr(term, name).idx for name in names] for term in terms], dtype=np.int64)


def _dihedral_terms(structure) -> dict[str, np.ndarray]:
    rows = []
    for dihedral in structure.dihedrals:
        quadruple = (dihedral.atom1.idx, dihedral.atom2.idx, dihedral.atom3.idx, dihedral.atom4.idx)
        fourier_terms = dihedral.type if isinstance(dihedral.type, list) else [dihedral.type]
        for term in fourier_terms:
            rows.append((*quadruple, term.phi_k * KCAL_TO_KJ, term.per, term.phase * DEG_TO_RAD))
    if not rows:
        return {
            "dihedral_indices": empty_indices(4),
            "dihedral_k": np.zeros(0),
            "dihedral_periodicity": np.zeros(0, dtype=np.int64),
            "dihedral_phase": np.zeros(0),
        }
    table = np.array(rows, dtype=np.float64)
    return {
        "dihedral_indices": table[:, :4].astype(np.int64),
        "dihedral_k": table[:, 4],
        "dihedral_periodicity": table[:, 5].astype(np.int64),
        "dihedral_phase": table[:, 6],
    }


def _cmap_terms(source: str, structure) -> CmapParameters:
    """The CMAP maps of ``structure``; ``source`` names the files in messages."""
    if not structure.cmaps:
        return CmapParameters()
    grids: list[np.ndarray] = []
    grid_ids: dict[int, int] = {}
    map_index = []
    indices = []
    for cmap in structure.cmaps:
        key = id(cmap.type)
        if key not in grid_ids:
            resolution = cmap.type.resolution
            grid_ids[key] = len(grids)
            grids.append(
                np.array(list(cmap.type.grid), dtype=np.float64).reshape(resolution, resolution)
            )
        map_index.append(grid_ids[key])
        a = [cmap.atom1.idx, cmap.atom2.idx, cmap.atom3.idx, cmap.atom4.idx, cmap.atom5.idx]
        indices.append([a[0], a[1], a[2], a[3], a[1], a[2], a[3], a[4]])
    resolutions = {grid.shape[0] for grid in grids}
    if len(resolutions) != 1:
        raise MissingParameterError(
            f"{source}: CMAP grids of different resolutions {sorted(resolutions)} are not supported"
        )
    return CmapParameters(
        indices=np.array(indices, dtype=np.int64),
        map_index=np.array(map_index, dtype=np.int64),
        grids=np.stack(grids) * KCAL_TO_KJ,
    )


def read_charmm(psf: PathLike, prm: PathLike | Sequence[PathLike]) -> ForceFieldParameters:
    """Read a CHARMM topology and its parameters.

    Arguments:
        psf: the ``.psf`` topology.
        prm: one parameter file (``.prm``, ``.par``, ``.str``) or a list of them,
            read in order.

    Returns:
        The parameters in nm, kJ/mol, radians.

    Raises:
        InputFileError: a file is missing or parmed cannot read it; a prm lacks its
            ``END`` line or the psf a section the energy needs (truncated files); a
            parameter-file entry lacks a field or has a non-numeric one (file and
            line named); the psf names an atom it does not define, gives a
            non-finite charge or a mass that is not > 0, or has lone pairs or Drude
            particles (not supported); a parameter is not finite; a NONBONDED header
            sets an invalid E14FAC, an NBXMOD other than 5, another dielectric or
            GEOM; an IMPROPER line is given twice, differently; a DIHEDRALS line
            used by the psf has a multiplicity <= 0 (CHARMM's harmonic form).
        MissingParameterError: a bond, angle, dihedral, improper, CMAP or atom type
            (Lennard-Jones) of the psf has no parameter (atoms named by 1-based psf
            number), or a cross-term matches its CMAP line only backwards.
    """
    from forcefields.charmm_impropers import check_impropers

    psf_path = Path(psf)
    prm_paths = [Path(prm)] if isinstance(prm, str | Path) else [Path(p) for p in prm]
    if not prm_paths:
        raise InputFileError("no parameter file given")
    structure = _read_psf(psf_path)
    if len(structure.atoms) == 0:
        raise InputFileError(f"{psf_path}: the psf defines no atoms")
    _check_atoms(psf_path, structure)
    charmm = read_parameter_set(prm_paths)
    parameter_set, options = charmm.parameter_set, charmm.options
    source = f"{psf_path} + {parameter_set.files}"
    check_impropers(psf_path, structure, parameter_set)
    check_cmap_directions(psf_path, structure, parameter_set, charmm.cmap_keys)
    try:
        structure.load_parameters(parameter_set)
    except Exception as error:
        message = psf_atom_message(one_line(error), structure)
        raise MissingParameterError(f"{source}: {message}") from error
    check_dihedral_multiplicities(structure, parameter_set.files)
    _check_lennard_jones_types(source, structure)

    bonds = _indices(structure.bonds, 2)
    ub = structure.urey_bradleys
    impropers = structure.impropers
    parameters = ForceFieldParameters(
        source=source,
        atom_names=np.array([atom.name for atom in structure.atoms]),
        atom_types=np.array([str(atom.type) for atom in structure.atoms]),
        residue_names=np.array([atom.residue.name for atom in structure.atoms]),
        masses=np.array([atom.mass for atom in structure.atoms], dtype=np.float64),
        charges=np.array([atom.charge for atom in structure.atoms], dtype=np.float64),
        atomic_numbers=np.array([atom.atomic_number for atom in structure.atoms], dtype=np.int64),
        bond_indices=bonds,
        bond_k=np.array([b.type.k for b in structure.bonds]) * _BOND_K,
        bond_r0=np.array([b.type.req for b in structure.bonds]) * ANGSTROM_TO_NM,
        angle_indices=_indices(structure.angles, 3),
        angle_k=np.array([a.type.k for a in structure.angles]) * KCAL_TO_KJ,
        angle_theta0=np.array([a.type.theteq for a in structure.angles]) * DEG_TO_RAD,
        urey_bradley_indices=_indices(ub, 2),
        urey_bradley_k=np.array([u.type.k for u in ub]) * _BOND_K,
        urey_bradley_r0=np.array([u.type.req for u in ub]) * ANGSTROM_TO_NM,
        **_dihedral_terms(structure),
        improper_indices=_indices(impropers, 4),
        improper_k=np.array([i.type.psi_k for i in impropers]) * KCAL_TO_KJ,
        improper_psi0=np.array([i.type.psi_eq for i in impropers]) * DEG_TO_RAD,
        cmap=_cmap_terms(source, structure),
        **_nonbonded_pairs(structure, bonds, options.e14fac),
    )
    _check_finite_parameters(parameters)
    return parameters
