"""Read a CHARMM model (psf lists + prm tables) off the OpenMM System that ffxml builds.

``ForceField.createSystem`` decides which atoms get which term and with which numbers;
this module records that choice by CHARMM atom type, in CHARMM units, so that the psf/prm
pair reproduces the same System through ``openmm.app.CharmmPsfFile``. How the ffxml System
stores CHARMM terms:

- bonds and Urey–Bradley 1-3 pairs share one ``HarmonicBondForce`` (told apart here by
  the bond graph),
- Lennard-Jones lives in ``CustomNonbondedForce``/``CustomBondForce`` (read here from the
  ffxml ``<LennardJonesForce>`` block by type instead),
- propers whose force constant is zero are dropped; they are taken from the ffxml
  ``<Proper>`` entries, because the psf must list every dihedral of the bond graph
  (CHARMM and parmed derive the 1-4 pairs from that list).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import openmm
import openmm.app as app
import openmm.unit as unit

from forcefields.errors import MissingParameterError
from systems.charmm_build.bond_graph import BondGraph
from systems.charmm_build.charmm_model import (
    AngleParameter,
    BondParameter,
    CharmmModel,
    CharmmParameters,
    CharmmTopology,
    CmapParameter,
    DihedralTerm,
    ImproperParameter,
    LennardJonesParameter,
    MassParameter,
    PsfAtom,
    type_key,
)
from systems.charmm_build.ffxml_source import FfxmlData, ResidueTemplate
from systems.charmm_build.units import (
    angstrom,
    degrees,
    harmonic_angle_constant,
    harmonic_length_constant,
    kcal,
    rmin_half_from_sigma,
)

__all__ = ["template_topology", "ffxml_system", "model_from_ffxml"]

_KJ = unit.kilojoule_per_mole
_IMPROPER_ENERGY = "k*(theta-theta0)^2"
_HANDLED_FORCES = {
    "HarmonicBondForce",
    "HarmonicAngleForce",
    "PeriodicTorsionForce",
    "CustomTorsionForce",
    "CMAPTorsionForce",
    "NonbondedForce",
    "CustomNonbondedForce",
    "CustomBondForce",
}


def template_topology(template: ResidueTemplate, ffxml: FfxmlData) -> app.Topology:
    """A one-chain, one-residue OpenMM Topology with the template's atoms and bonds."""
    topology = app.Topology()
    residue = topology.addResidue(template.name, topology.addChain())
    atoms = {}
    for atom in template.atoms:
        element = app.Element.getBySymbol(ffxml.atom_type(atom.charmm_type).element)
        atoms[atom.name] = topology.addAtom(atom.name, element, residue)
    for first, second in template.bonds:
        topology.addBond(atoms[first], atoms[second])
    return topology


def ffxml_system(forcefield: app.ForceField, topology: app.Topology) -> openmm.System:
    """The vacuum System ffxml builds for a one-residue ``topology`` (no cutoff, no
    constraints), with the residue's template forced to the residue's name."""
    residue = next(topology.residues())
    return forcefield.createSystem(
        topology,
        residueTemplates={residue: residue.name},
        nonbondedMethod=app.NoCutoff,
        constraints=None,
        rigidWater=False,
        removeCMMotion=False,
    )


def model_from_ffxml(
    ffxml: FfxmlData, forcefield: app.ForceField, residue_name: str, segment: str
) -> CharmmModel:
    """The CHARMM model of residue template ``residue_name`` as ``forcefield`` parameterises it.

    Raises:
        MissingParameterError: a dihedral of the bond graph has no ffxml entry, or a type
            has no LJ entry.
        ValueError: the System holds a term the psf/prm pair cannot express identically.
    """
    template = ffxml.residue(residue_name)
    topology = template_topology(template, ffxml)
    system = ffxml_system(forcefield, topology)
    forces = _forces_by_class(system)
    index = {atom.name: position for position, atom in enumerate(template.atoms)}
    bonds = tuple((index[first], index[second]) for first, second in template.bonds)
    graph = BondGraph(len(template.atoms), bonds)
    atoms = tuple(
        PsfAtom(
            atom.name,
            atom.charmm_type,
            atom.charge,
            ffxml.atom_type(atom.charmm_type).mass,
            ffxml.atom_type(atom.charmm_type).element,
        )
        for atom in template.atoms
    )
    _check_charges(atoms, forces["NonbondedForce"])
    impropers, improper_parameters = _impropers(forces.get("CustomTorsionForce"), atoms)
    cmaps, cmap_parameters = _cmaps(forces.get("CMAPTorsionForce"), atoms)
    charmm_topology = CharmmTopology(
        segment=segment,
        residue=residue_name,
        atoms=atoms,
        bonds=bonds,
        angles=tuple(graph.angles()),
        dihedrals=tuple(graph.dihedrals()),
        impropers=impropers,
        cmaps=cmaps,
    )
    bond_parameters, urey_bradley = _bonds_and_urey_bradley(
        forces["HarmonicBondForce"], charmm_topology, graph
    )
    used_types = sorted({atom.charmm_type for atom in atoms})
    parameters = CharmmParameters(
        masses={
            name: MassParameter(ffxml.atom_type(name).mass, ffxml.atom_type(name).element)
            for name in used_types
        },
        bonds=bond_parameters,
        angles=_angles(forces["HarmonicAngleForce"], charmm_topology, urey_bradley),
        dihedrals=_dihedrals(forces["PeriodicTorsionForce"], charmm_topology, graph, ffxml),
        impropers=improper_parameters,
        cmaps=cmap_parameters,
        lennard_jones=_lennard_jones(ffxml, used_types),
    )
    return CharmmModel(charmm_topology, parameters)


def _forces_by_class(system: openmm.System) -> dict[str, openmm.Force]:
    forces: dict[str, openmm.Force] = {}
    for force in system.getForces():
        name = type(force).__name__
        if name not in _HANDLED_FORCES or name in forces:
            raise ValueError(f"ffxml System has an unexpected or repeated {name}")
        forces[name] = force
    return forces


def _record(table: dict, key: tuple, value: object, what: str) -> None:
    """Store ``value`` under ``key``; a different value for a key already seen is an error."""
    if table.setdefault(key, value) != value:
        raise ValueError(f"{what} {key}: conflicting parameters {table[key]} and {value}")


def _check_charges(atoms: tuple[PsfAtom, ...], nonbonded: openmm.NonbondedForce) -> None:
    for position, atom in enumerate(atoms):
        charge = nonbonded.getParticleParameters(position)[0].value_in_unit(unit.elementary_charge)
        if charge != atom.charge:
            raise ValueError(f"atom {atom.name}: System charge {charge} != template {atom.charge}")


def _bonds_and_urey_bradley(
    force: openmm.HarmonicBondForce, topology: CharmmTopology, graph: BondGraph
) -> tuple[dict, dict]:
    """Bond parameters by type pair and Urey–Bradley ``(Kub, S0)`` by angle type triple."""
    bonds: dict = {}
    urey_bradley: dict = {}
    for term in range(force.getNumBonds()):
        first, second, length, k = force.getBondParameters(term)
        b0 = angstrom(length.value_in_unit(unit.nanometer))
        constant = harmonic_length_constant(k.value_in_unit(_KJ / unit.nanometer**2))
        if graph.is_bonded(first, second):
            key = type_key(topology.types((first, second)))
            _record(bonds, key, BondParameter(constant, b0), "bond")
        elif constant != 0.0:
            apex = graph.common_neighbour(first, second)
            key = type_key(topology.types((first, apex, second)))
            _record(urey_bradley, key, (constant, b0), "Urey-Bradley")
    return bonds, urey_bradley


def _angles(force: openmm.HarmonicAngleForce, topology: CharmmTopology, urey_bradley: dict) -> dict:
    angles: dict = {}
    seen = set()
    for term in range(force.getNumAngles()):
        first, apex, last, theta0, k = force.getAngleParameters(term)
        seen.add((min(first, last), apex, max(first, last)))
        key = type_key(topology.types((first, apex, last)))
        parameter = AngleParameter(
            harmonic_angle_constant(k.value_in_unit(_KJ / unit.radian**2)),
            degrees(theta0.value_in_unit(unit.radian)),
        )
        if key in urey_bradley:
            kub, s0 = urey_bradley[key]
            parameter = dataclasses.replace(parameter, kub=kub, s0=s0)
        _record(angles, key, parameter, "angle")
    missing = set(topology.angles) - seen
    if missing:
        raise MissingParameterError(f"ffxml System has no angle term for atoms {sorted(missing)}")
    return angles


def _dihedrals(
    force: openmm.PeriodicTorsionForce,
    topology: CharmmTopology,
    graph: BondGraph,
    ffxml: FfxmlData,
) -> dict:
    terms_by_atoms: dict[tuple[int, ...], list[DihedralTerm]] = defaultdict(list)
    for term in range(force.getNumTorsions()):
        *atoms, periodicity, phase, k = force.getTorsionParameters(term)
        if not graph.is_chain(atoms):
            raise ValueError(f"periodic improper on atoms {atoms} is not supported")
        terms_by_atoms[type_key(atoms)].append(
            DihedralTerm(
                kcal(k.value_in_unit(_KJ)),
                periodicity,
                degrees(phase.value_in_unit(unit.radian)),
            )
        )
    dihedrals: dict = {}
    for atoms in topology.dihedrals:
        types = topology.types(atoms)
        terms = terms_by_atoms.pop(type_key(atoms), None) or _zero_terms(ffxml, types)
        terms = sorted(terms, key=lambda item: item.multiplicity)
        multiplicities = [item.multiplicity for item in terms]
        if len(set(multiplicities)) != len(multiplicities):
            raise ValueError(f"dihedral {types}: repeated multiplicity {multiplicities}")
        _record(dihedrals, type_key(types), tuple(terms), "dihedral")
    if terms_by_atoms:
        raise ValueError(f"torsions off the bond graph: {sorted(terms_by_atoms)}")
    return dihedrals


def _zero_terms(ffxml: FfxmlData, types: tuple[str, ...]) -> list[DihedralTerm]:
    """Terms of a dihedral the System dropped: its ffxml entry, whose constants must be 0."""
    record = ffxml.best_proper(types)
    if any(k != 0.0 for k, _, _ in record.terms):
        raise ValueError(f"dihedral {types}: ffxml entry {record} is nonzero but not in System")
    return [
        DihedralTerm(0.0, periodicity, degrees(phase)) for _, periodicity, phase in record.terms
    ]


def _impropers(
    force: openmm.CustomTorsionForce | None, atoms: tuple[PsfAtom, ...]
) -> tuple[tuple, dict]:
    if force is None:
        return (), {}
    names = [force.getPerTorsionParameterName(i) for i in range(force.getNumPerTorsionParameters())]
    if force.getEnergyFunction() != _IMPROPER_ENERGY or names != ["k", "theta0"]:
        raise ValueError(f"unexpected improper form {force.getEnergyFunction()!r} {names}")
    impropers = []
    parameters: dict = {}
    for term in range(force.getNumTorsions()):
        *members, (k, theta0) = force.getTorsionParameters(term)
        if theta0 != 0.0:
            raise ValueError(f"improper {members}: theta0 = {theta0} rad wraps differently in psf")
        impropers.append(tuple(members))
        types = tuple(atoms[member].charmm_type for member in members)
        _record(parameters, types, ImproperParameter(kcal(k), degrees(theta0)), "improper")
    return tuple(impropers), parameters


def _cmaps(force: openmm.CMAPTorsionForce | None, atoms: tuple[PsfAtom, ...]) -> tuple[tuple, dict]:
    if force is None:
        return (), {}
    cmaps = []
    parameters: dict = {}
    for term in range(force.getNumTorsions()):
        map_index, *members = force.getTorsionParameters(term)
        cmaps.append(tuple(members))
        key = tuple(atoms[member].charmm_type for member in members)
        resolution, energies = force.getMapParameters(map_index)
        grid = _charmm_grid(resolution, energies.value_in_unit(_KJ))
        _record(parameters, key, grid, "CMAP")
    return tuple(cmaps), parameters


def _charmm_grid(resolution: int, energies: list[float]) -> CmapParameter:
    """OpenMM map (angles 0..360°, phi fastest, kJ/mol) -> CHARMM grid (-180..180°, psi fastest).

    OpenMM's entry ``a + resolution * b`` is at phi = a·step, psi = b·step; the CHARMM entry
    ``i * resolution + j`` is at phi = -180° + i·step, psi = -180° + j·step.
    """
    half = resolution // 2
    values = tuple(
        kcal(energies[(i + half) % resolution + resolution * ((j + half) % resolution)])
        for i in range(resolution)
        for j in range(resolution)
    )
    return CmapParameter(resolution, values)


def _lennard_jones(ffxml: FfxmlData, used_types: list[str]) -> dict:
    for pair in ffxml.nbfix_pairs:
        if pair <= set(used_types):
            raise ValueError(f"NBFIX pair {sorted(pair)} applies but is not written to prm")
    parameters = {}
    for name in used_types:
        record = ffxml.lennard_jones(name)
        parameters[name] = LennardJonesParameter(
            kcal(record.epsilon),
            rmin_half_from_sigma(record.sigma),
            None if record.epsilon14 is None else kcal(record.epsilon14),
            None if record.sigma14 is None else rmin_half_from_sigma(record.sigma14),
        )
    return parameters
