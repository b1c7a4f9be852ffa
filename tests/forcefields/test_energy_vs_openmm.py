"""The torch energy against OpenMM (its own CHARMM parser), term by term and in forces."""

import numpy as np
import pytest
import torch

import forcefields
from forcefields.energy import TERM_NAMES
from forcefields.openmm_oracle import OpenMMOracle
from forcefields.validation import compare_with_openmm
from tests.forcefields.conftest import perturbed_frames

# 1000 frames per molecule: near-equilibrium (2-10 pm) to strongly distorted
# (30-60 pm, bonds stretched or compressed by up to ~40%, energies up to 10⁴ kJ/mol).
SCALES = (0.002, 0.01, 0.03, 0.06)
EQUILIBRIUM_SCALES = (0.002, 0.005)


@pytest.fixture(scope="module")
def reference(charmm):
    oracle = OpenMMOracle(charmm.psf, charmm.prm)
    frames = perturbed_frames(charmm.pdb, SCALES, per_scale=250, seed=1)[:1000]
    return oracle, frames


def test_float64_matches_openmm_to_round_off(charmm, reference):
    oracle, frames = reference
    energy = forcefields.load(charmm.psf, charmm.prm, dtype=torch.float64)
    # Both sides sum a few hundred float64 terms: they agree to ~1e-13 relative (energies
    # and forces); 1e-11 leaves a hundredfold margin for another BLAS or CPU.
    report = compare_with_openmm(energy, oracle, frames, tolerance=1e-11, force_tolerance=1e-11)
    assert report.frames == 1000
    assert report.passed, report.table()


def test_float32_matches_openmm_on_equilibrium_frames(charmm):
    oracle = OpenMMOracle(charmm.psf, charmm.prm)
    frames = perturbed_frames(charmm.pdb, EQUILIBRIUM_SCALES, per_scale=100, seed=2)
    energy = forcefields.load(charmm.psf, charmm.prm, dtype=torch.float32)
    # The float32 resolution bounds of DEFAULT_TOLERANCE and DEFAULT_FORCE_TOLERANCE.
    report = compare_with_openmm(energy, oracle, frames, tolerance=5e-5, force_tolerance=1e-4)
    assert report.passed, report.table()


def test_every_term_is_exercised(charmm, reference):
    """Guard against a vacuous comparison: the terms the molecule has are nonzero."""
    oracle, frames = reference
    energies, _ = oracle.terms(frames[:5])
    nonzero = {name for name in TERM_NAMES if np.abs(energies[name]).max() > 1e-6}
    expected = {"bond", "angle", "urey_bradley", "dihedral", "lj", "coulomb"}
    if "dialanine" in str(charmm.psf):
        expected |= {"improper", "cmap"}
    assert expected <= nonzero


def test_clipped_energy_equals_exact_energy_near_equilibrium(charmm):
    frames = torch.as_tensor(perturbed_frames(charmm.pdb, (0.003,), per_scale=50, seed=3))
    exact = forcefields.load(charmm.psf, charmm.prm)
    clipped = forcefields.load(charmm.psf, charmm.prm, clip="default")
    # Default thresholds lie hundreds of kT up each wall: thermal frames are untouched.
    torch.testing.assert_close(clipped(frames), exact(frames), rtol=0, atol=1e-9)


def test_overlapping_atoms_give_finite_clipped_energy_and_forces(charmm):
    parameters = forcefields.read_charmm(charmm.psf, charmm.prm)
    i, j = parameters.pair_indices[~parameters.pair_is_14][0]
    frame = perturbed_frames(charmm.pdb, (), per_scale=0, seed=0)
    frame[0, j] = frame[0, i]
    x = torch.as_tensor(frame)
    clipped = forcefields.load(charmm.psf, charmm.prm, clip="default")
    assert torch.isfinite(clipped(x)).all()
    assert torch.isfinite(clipped.forces(x)).all()
    exact = forcefields.load(charmm.psf, charmm.prm)
    assert not torch.isfinite(exact(x)).all()


def test_forces_inside_inference_mode_equal_openmm(charmm):
    """``forces`` called inside ``torch.inference_mode`` on an inference tensor, as a
    sampler's no-gradient loop would, still gives OpenMM's forces."""
    oracle = OpenMMOracle(charmm.psf, charmm.prm)
    frames = perturbed_frames(charmm.pdb, (0.01,), per_scale=3, seed=5)
    energy = forcefields.load(charmm.psf, charmm.prm, dtype=torch.float64)
    with torch.inference_mode():
        forces = energy.forces(torch.as_tensor(frames))
    _, expected = oracle.total(frames)
    # float64 round-off, as in test_float64_matches_openmm_to_round_off; atol for the
    # components near zero (forces reach 10³ kJ/mol/nm).
    np.testing.assert_allclose(forces.numpy(), expected, rtol=1e-11, atol=1e-8)


def test_plain_openmm_system_has_one_nonbonded_force_and_the_same_energy(charmm):
    """The system the speed benchmark times: OpenMM's own forces (one NonbondedForce, not
    the oracle's Lennard-Jones and Coulomb copies), with the oracle's total energy."""
    import openmm

    from forcefields.openmm_oracle import charmm_openmm_system

    system, _ = charmm_openmm_system(charmm.psf, charmm.prm)
    kinds = [type(force).__name__ for force in system.getForces()]
    assert kinds.count("NonbondedForce") == 1 and "CMMotionRemover" not in kinds
    frames = perturbed_frames(charmm.pdb, (0.01,), per_scale=3, seed=6)
    context = openmm.Context(
        system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference")
    )
    energies = []
    for frame in frames:
        context.setPositions(frame)
        energy = context.getState(getEnergy=True).getPotentialEnergy()
        energies.append(energy.value_in_unit(openmm.unit.kilojoule_per_mole))
    expected, _ = OpenMMOracle(charmm.psf, charmm.prm).total(frames)
    # float64 sums in another order: round-off, as in the float64 comparison above.
    np.testing.assert_allclose(energies, expected, rtol=1e-11, atol=1e-9)
