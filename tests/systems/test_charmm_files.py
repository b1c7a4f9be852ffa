"""The bundled CHARMM psf/prm/pdb files against OpenMM's charmm36.xml, term by term.

For each parameter set, the System ``openmm.app.CharmmPsfFile`` builds from psf + prm
must equal the System ``ForceField('charmm36.xml' [+ extra residue])`` builds, in the
energy and forces of every term (bond, angle, Urey-Bradley, dihedral, improper, CMAP,
LJ incl. 1-4, Coulomb incl. 1-4), on the minimised structure and on perturbed frames.
The two Systems store these terms in different forces, so both are regrouped by what
each force computes before comparing.
"""

from __future__ import annotations

import functools
from pathlib import Path

import mdtraj
import numpy as np
import openmm
import openmm.app as app
import openmm.unit as unit
import parmed
import pytest
from rdkit import Chem

from forcefields.errors import UnknownNameError
from systems.charmm_build.build import SEGMENT, coordinate_files, file_title
from systems.charmm_build.ffxml_source import CHARMM36_FFXML, FfxmlData
from systems.charmm_build.model_from_ffxml import model_from_ffxml
from systems.charmm_build.molecules import BUILDS, MoleculeBuild
from systems.charmm_build.prm_writer import prm_text
from systems.charmm_build.psf_writer import psf_text
from systems.files import CHARMM_VARIANTS, charmm_files

TERMS = ("bond", "angle", "urey_bradley", "dihedral", "improper", "cmap", "lj", "coulomb")
KJ = unit.kilojoule_per_mole
N_PERTURBED = 20
NOISE_NM = 0.015
# Parameters pass through text at 1e-10 relative (number_text.decimal_text) and the
# float64 Reference platform sums to ~1e-13 relative; 1e-6 relative (with a floor of
# 1 kJ/mol or 1 kJ/mol/nm for near-zero terms) leaves orders of margin yet catches any
# wrong parameter, which moves a term by 1e-3 relative or more.
RELATIVE_TOLERANCE = 1e-6
BUILD_BY_ID = {f"{build.name}-{build.variant}": build for build in BUILDS}
EXPECTED_TYPES = {
    "butane-default": {"CG331", "CG321", "HGA3", "HGA2"},
    "butane-lipid": {"CTL3", "CTL2", "HAL3", "HAL2"},
    "dialanine-default": {"CT3", "C", "O", "NH1", "H", "CT1", "HB1", "HA3"},
}


def _reference_context(system: openmm.System) -> openmm.Context:
    platform = openmm.Platform.getPlatformByName("Reference")
    return openmm.Context(system, openmm.VerletIntegrator(0.001), platform)


def _bonds(topology: app.Topology) -> set[frozenset[int]]:
    return {frozenset((first.index, second.index)) for first, second in topology.bonds()}


def _is_chain(atoms, bonds) -> bool:
    return all(frozenset(pair) in bonds for pair in zip(atoms[:-1], atoms[1:], strict=True))


def _split_harmonic_bonds(force, bonds):
    """Bonded pairs -> 'bond'; the other (1-3 Urey-Bradley) pairs -> 'urey_bradley'."""
    parts = {"bond": openmm.HarmonicBondForce(), "urey_bradley": openmm.HarmonicBondForce()}
    for term in range(force.getNumBonds()):
        first, second, length, k = force.getBondParameters(term)
        part = "bond" if frozenset((first, second)) in bonds else "urey_bradley"
        parts[part].addBond(first, second, length, k)
    return list(parts.items())


def _split_nonbonded(force):
    """A copy with charges zeroed ('lj') and one with epsilons zeroed ('coulomb')."""
    lj, coulomb = openmm.XmlSerializer.clone(force), openmm.XmlSerializer.clone(force)
    for particle in range(force.getNumParticles()):
        charge, sigma, epsilon = force.getParticleParameters(particle)
        lj.setParticleParameters(particle, 0.0, sigma, epsilon)
        coulomb.setParticleParameters(particle, charge, sigma, 0.0)
    for exception in range(force.getNumExceptions()):
        first, second, charge_product, sigma, epsilon = force.getExceptionParameters(exception)
        lj.setExceptionParameters(exception, first, second, 0.0, sigma, epsilon)
        coulomb.setExceptionParameters(exception, first, second, charge_product, sigma, 0.0)
    return [("lj", lj), ("coulomb", coulomb)]


def _torsions(force, bonds, proper: bool):
    """The whole torsion force as 'dihedral' or 'improper', after checking that every
    torsion is of that kind (consecutive atoms bonded, or not)."""
    for term in range(force.getNumTorsions()):
        atoms = force.getTorsionParameters(term)[:4]
        assert _is_chain(atoms, bonds) == proper, f"{type(force).__name__} mixes kinds"
    return [("dihedral" if proper else "improper", openmm.XmlSerializer.clone(force))]


# In both Systems the custom pair forces hold Lennard-Jones only: the ffxml puts all of
# its LJ (pairs and 1-4) there, the psf path an NBFIX table when one applies.
_WHOLE_FORCES = {
    "HarmonicAngleForce": "angle",
    "CMAPTorsionForce": "cmap",
    "CustomNonbondedForce": "lj",
    "CustomBondForce": "lj",
}


def _parts(force, bonds):
    """``(term, force)`` pieces of one force; CMMotionRemover carries no energy."""
    kind = type(force).__name__
    if kind == "HarmonicBondForce":
        return _split_harmonic_bonds(force, bonds)
    if kind == "NonbondedForce":
        return _split_nonbonded(force)
    if kind in ("PeriodicTorsionForce", "CustomTorsionForce"):
        return _torsions(force, bonds, proper=kind == "PeriodicTorsionForce")
    if kind == "CMMotionRemover":
        return []
    assert kind in _WHOLE_FORCES, f"unexpected force {kind}"
    return [(_WHOLE_FORCES[kind], openmm.XmlSerializer.clone(force))]


def _by_term(system: openmm.System, bonds) -> openmm.System:
    """Same particles; force group ``TERMS.index(term)`` holds exactly ``term``'s energy."""
    grouped = openmm.System()
    for particle in range(system.getNumParticles()):
        grouped.addParticle(system.getParticleMass(particle))
    for force in system.getForces():
        for term, part in _parts(force, bonds):
            part.setForceGroup(TERMS.index(term))
            grouped.addForce(part)
    return grouped


def _terms(context: openmm.Context, positions: np.ndarray) -> dict[str, tuple[float, np.ndarray]]:
    """Energy (kJ/mol) and forces (kJ/mol/nm, ``(n_atoms, 3)``) of each term."""
    context.setPositions(positions * unit.nanometer)
    result = {}
    for group, term in enumerate(TERMS):
        state = context.getState(getEnergy=True, getForces=True, groups={group})
        forces = state.getForces(asNumpy=True).value_in_unit(KJ / unit.nanometer)
        result[term] = (state.getPotentialEnergy().value_in_unit(KJ), forces)
    return result


def _assert_same_terms(actual, expected) -> None:
    for term in TERMS:
        energy, forces = actual[term]
        reference_energy, reference_forces = expected[term]
        energy_scale = abs(reference_energy) + 1.0
        assert abs(energy - reference_energy) <= RELATIVE_TOLERANCE * energy_scale, term
        force_scale = np.abs(reference_forces).max() + 1.0
        assert np.abs(forces - reference_forces).max() <= RELATIVE_TOLERANCE * force_scale, term


@functools.cache
def _forcefield(paths: tuple[Path, ...]) -> app.ForceField:
    return app.ForceField(*(str(path) for path in paths))


@functools.cache
def _ffxml_data(paths: tuple[Path, ...]) -> FfxmlData:
    return FfxmlData(paths)


class ParameterSet:
    """One parameter set: its files, and its psf/prm and ffxml Systems regrouped by term."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.build: MoleculeBuild = BUILD_BY_ID[key]
        files = self.build.files
        self.psf = app.CharmmPsfFile(str(files.psf))
        self.ffxml_paths = (CHARMM36_FFXML, *self.build.extra_ffxml)
        self.forcefield = _forcefield(self.ffxml_paths)
        self.psf_system = self.psf.createSystem(
            app.CharmmParameterSet(str(files.prm)),
            nonbondedMethod=app.NoCutoff,
            constraints=None,
            rigidWater=False,
        )
        residue = next(self.psf.topology.residues())
        ffxml_system = self.forcefield.createSystem(
            self.psf.topology,
            residueTemplates={residue: self.build.residue},
            nonbondedMethod=app.NoCutoff,
            constraints=None,
            rigidWater=False,
        )
        self.bonds = _bonds(self.psf.topology)
        self.psf_context = _reference_context(_by_term(self.psf_system, self.bonds))
        self.ffxml_context = _reference_context(_by_term(ffxml_system, self.bonds))
        self.pdb = app.PDBFile(str(files.pdb))
        self.minimised = self.pdb.getPositions(asNumpy=True).value_in_unit(unit.nanometer)


@pytest.fixture(scope="module", params=sorted(BUILD_BY_ID))
def parameter_set(request) -> ParameterSet:
    return ParameterSet(request.param)


def test_psf_and_ffxml_agree_per_term(parameter_set: ParameterSet) -> None:
    rng = np.random.default_rng(20261122)
    minimised = parameter_set.minimised
    perturbed = minimised + rng.normal(scale=NOISE_NM, size=(N_PERTURBED, *minimised.shape))
    for frame in [minimised, *perturbed]:
        _assert_same_terms(
            _terms(parameter_set.psf_context, frame), _terms(parameter_set.ffxml_context, frame)
        )


def test_every_expected_term_is_present(parameter_set: ParameterSet) -> None:
    energies = _terms(parameter_set.psf_context, parameter_set.minimised)
    absent = {"improper", "cmap"} if parameter_set.build.name == "butane" else set()
    # Every present term exceeds round-off (1e-6 kJ/mol) by far at the minimum.
    present = {term for term in TERMS if abs(energies[term][0]) > 1e-6}
    assert present == set(TERMS) - absent


def test_atoms_types_residues_and_pdb_order(parameter_set: ParameterSet) -> None:
    psf_atoms = list(parameter_set.psf.topology.atoms())
    pdb_atoms = list(parameter_set.pdb.topology.atoms())
    assert len(psf_atoms) == {"butane": 14, "dialanine": 22}[parameter_set.build.name]
    assert [atom.name for atom in pdb_atoms] == [atom.name for atom in psf_atoms]
    assert [atom.element for atom in pdb_atoms] == [atom.element for atom in psf_atoms]
    residues = [residue.name for residue in parameter_set.psf.topology.residues()]
    assert residues == [parameter_set.build.residue]
    if parameter_set.build.geometry is not None:
        assert [residue.name for residue in parameter_set.pdb.topology.residues()] == residues
    assert _bonds(parameter_set.pdb.topology) == parameter_set.bonds
    psf_types = {atom.attype for atom in parameter_set.psf.atom_list}
    assert psf_types == EXPECTED_TYPES[parameter_set.key]


def test_files_match_a_fresh_build(parameter_set: ParameterSet) -> None:
    build = parameter_set.build
    ffxml_data = _ffxml_data(parameter_set.ffxml_paths)
    model = model_from_ffxml(ffxml_data, parameter_set.forcefield, build.residue, SEGMENT)
    title = file_title(build)
    assert psf_text(model.topology, title) == build.files.psf.read_text()
    assert prm_text(model.parameters, title) == build.files.prm.read_text()
    if build.geometry is not None:
        for path, text in coordinate_files(build, model, parameter_set.psf_system).items():
            assert text == path.read_text(), path.name


def test_parmed_reads_the_same_energy(parameter_set: ParameterSet) -> None:
    """parmed derives 1-4 pairs from the psf dihedral list, unlike OpenMM 8.6, so equal
    LJ and Coulomb also show that the dihedral list is complete."""
    structure = parmed.charmm.CharmmPsfFile(str(parameter_set.build.files.psf))
    parameters = parmed.charmm.CharmmParameterSet(str(parameter_set.build.files.prm))
    system = structure.createSystem(parameters, nonbondedMethod=app.NoCutoff)
    parmed_context = _reference_context(_by_term(system, parameter_set.bonds))
    minimised = parameter_set.minimised
    _assert_same_terms(
        _terms(parmed_context, minimised), _terms(parameter_set.psf_context, minimised)
    )
    ffxml_urey_bradley = [
        force
        for force in parameter_set.ffxml_context.getSystem().getForces()
        if force.getForceGroup() == TERMS.index("urey_bradley")
    ]
    assert len(structure.urey_bradleys) == sum(f.getNumBonds() for f in ffxml_urey_bradley)


def test_pdb_is_a_minimum(parameter_set: ParameterSet) -> None:
    if parameter_set.build.geometry is None:
        pytest.skip("coordinates belong to the default variant, minimised with its parameters")
    context = openmm.Context(
        openmm.XmlSerializer.clone(parameter_set.psf_system),
        openmm.VerletIntegrator(0.001),
        openmm.Platform.getPlatformByName("Reference"),
    )
    context.setPositions(parameter_set.minimised * unit.nanometer)
    state = context.getState(getEnergy=True, getForces=True)
    forces = state.getForces(asNumpy=True).value_in_unit(KJ / unit.nanometer)
    # The PDB rounds each coordinate by up to 5e-5 nm; with bond constants up to
    # 5.2e5 kJ/mol/nm² (C=O) and up to four bonds an atom, that leaves forces below
    # ~200 kJ/mol/nm (thermal forces at 300 K are ~1000 kJ/mol/nm).
    assert np.linalg.norm(forces, axis=1).max() < 200.0
    openmm.LocalEnergyMinimizer.minimize(context, 1e-4, 0)
    relaxed = context.getState(getEnergy=True, getPositions=True)
    # Undoing that rounding lowers the energy by at most ~1/2 k δ² per coordinate
    # (< 7e-4 kJ/mol each, < 0.05 kJ/mol in all) and moves atoms by about δ√3 ≈ 1e-4 nm;
    # 5e-4 nm allows for soft methyl rotations, far below any change of conformer.
    drop = (state.getPotentialEnergy() - relaxed.getPotentialEnergy()).value_in_unit(KJ)
    assert 0.0 <= drop < 0.05
    moved = relaxed.getPositions(asNumpy=True).value_in_unit(unit.nanometer)
    assert np.linalg.norm(moved - parameter_set.minimised, axis=1).max() < 5e-4


def _dihedral(trajectory: mdtraj.Trajectory, names: tuple[str, str, str, str]) -> float:
    indices = [trajectory.topology.select(f"name {name}")[0] for name in names]
    return float(np.degrees(mdtraj.compute_dihedrals(trajectory, [indices]))[0, 0])


def test_butane_is_trans() -> None:
    butane = mdtraj.load(str(charmm_files("butane").pdb))
    # Trans: C-C-C-C within 10 degrees of 180 (gauche minima lie near ±65 degrees).
    assert abs(abs(_dihedral(butane, ("C1", "C2", "C3", "C4"))) - 180.0) < 10.0


def test_dialanine_three_residue_pdb_gives_phi_psi_of_c7eq() -> None:
    pdb = charmm_files("dialanine").pdb
    psf_order = mdtraj.load(str(pdb))
    three = mdtraj.load(str(pdb.with_name("dialanine_3res.pdb")))
    assert [residue.name for residue in three.topology.residues] == ["ACE", "ALA", "NME"]
    assert [a.element for a in three.topology.atoms] == [
        a.element for a in psf_order.topology.atoms
    ]
    np.testing.assert_array_equal(three.xyz, psf_order.xyz)
    _, phi = mdtraj.compute_phi(three)
    _, psi = mdtraj.compute_psi(three)
    assert phi.shape == psi.shape == (1, 1)
    # mdtraj's backbone angles are the ALAD dihedrals CLP-NL-CA-CRP and NL-CA-CRP-NR;
    # both come from the same float32 coordinates, so they agree to float32 round-off.
    assert np.degrees(phi[0, 0]) == pytest.approx(
        _dihedral(psf_order, ("CLP", "NL", "CA", "CRP")), abs=1e-3
    )
    assert np.degrees(psi[0, 0]) == pytest.approx(
        _dihedral(psf_order, ("NL", "CA", "CRP", "NR")), abs=1e-3
    )
    # C7eq: phi about -80, psi about +70 degrees (C7ax has phi > 0).
    assert -110.0 < np.degrees(phi[0, 0]) < -50.0
    assert 40.0 < np.degrees(psi[0, 0]) < 110.0


def test_dialanine_is_l_alanine() -> None:
    molecule = Chem.MolFromPDBFile(str(charmm_files("dialanine").pdb), removeHs=False)
    Chem.AssignStereochemistryFrom3D(molecule)
    alpha = [
        atom for atom in molecule.GetAtoms() if atom.GetPDBResidueInfo().GetName().strip() == "CA"
    ]
    assert alpha[0].GetProp("_CIPCode") == "S"


def test_charmm_files_names_and_errors() -> None:
    assert CHARMM_VARIANTS == {"butane": ("default", "lipid"), "dialanine": ("default",)}
    for name, variants in CHARMM_VARIANTS.items():
        for variant in variants:
            files = charmm_files(name, variant)
            assert all(path.is_file() for path in files)
    assert charmm_files("butane", "lipid").pdb == charmm_files("butane").pdb
    with pytest.raises(UnknownNameError, match="hexane"):
        charmm_files("hexane")
    with pytest.raises(UnknownNameError, match="amber"):
        charmm_files("dialanine", "amber")
