"""Tests of the observables: dihedrals against mdtraj, mode boundaries, weighted populations."""

from __future__ import annotations

import math
from pathlib import Path

import mdtraj
import numpy as np
import openmmtools
import pytest
import torch
from rdkit import Chem
from scipy.spatial.transform import Rotation

from forcefields.errors import ConfigError, ShapeMismatchError
from systems.observables import (
    BUTANE_MODES,
    DIALANINE_STATES,
    butane_dihedral,
    butane_modes,
    dialanine_states,
    dihedral,
    minor_mode,
    mode_fractions,
    phi_psi,
    signed_volume,
)

ALANINE_DIPEPTIDE_PDB = (
    Path(openmmtools.__file__).parent / "data" / "alanine-dipeptide-gbsa" / "alanine-dipeptide.pdb"
)
"""An L-alanine dipeptide (ACE-ALA-NME) structure that ships with openmmtools."""


def _trajectory(xyz: np.ndarray) -> mdtraj.Trajectory:
    """mdtraj trajectory of unbonded carbon atoms at ``xyz`` ``(B, N, 3)``."""
    topology = mdtraj.Topology()
    residue = topology.add_residue("UNK", topology.add_chain())
    for _ in range(xyz.shape[1]):
        topology.add_atom("C", mdtraj.element.carbon, residue)
    return mdtraj.Trajectory(xyz, topology)


def test_dihedral_matches_mdtraj_on_random_frames() -> None:
    xyz = np.random.default_rng(0).normal(scale=0.3, size=(500, 6, 3))
    quadruples = [(0, 1, 2, 3), (5, 3, 1, 0), (2, 4, 5, 1)]
    expected = mdtraj.compute_dihedrals(_trajectory(xyz.astype(np.float32)), quadruples)
    for column, quadruple in enumerate(quadruples):
        from_numpy = dihedral(xyz, *quadruple)
        from_torch = dihedral(torch.from_numpy(xyz), *quadruple)
        assert isinstance(from_numpy, np.ndarray) and isinstance(from_torch, torch.Tensor)
        # mdtraj computes in float32: ~1e-6 rad round-off, more where the planes are
        # almost degenerate; 1e-4 rad still catches any sign or index error (O(1) rad).
        np.testing.assert_allclose(from_numpy, expected[:, column], atol=1e-4)
        np.testing.assert_array_equal(from_torch.numpy(), from_numpy)


def test_dihedral_sign_and_single_frame() -> None:
    # j at the origin, k on +x, i on +y, l on +z. Looking from j toward k, +y appears to
    # the right and +z below, so the front bond turns clockwise onto the back one: +90°.
    frame = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 1.0]])
    single = dihedral(frame, 0, 1, 2, 3)
    assert single.shape == () and single == pytest.approx(math.pi / 2, abs=1e-12)
    mirrored = frame * np.array([1.0, 1.0, -1.0])
    assert dihedral(mirrored, 0, 1, 2, 3) == pytest.approx(-math.pi / 2, abs=1e-12)


def test_dihedral_range_excludes_minus_pi() -> None:
    rng = np.random.default_rng(3)
    planar = rng.normal(size=(1000, 4, 3))
    planar[..., 2] = rng.choice([0.0, -0.0], size=(1000, 4))  # all atoms in one plane
    angles = dihedral(planar, 0, 1, 2, 3)
    assert np.all(angles > -math.pi) and np.all(angles <= math.pi)
    anti = np.abs(angles) > 3.0
    assert anti.any()
    np.testing.assert_array_equal(angles[anti], math.pi)  # (-π, π]: anti-periplanar is +π


def test_dihedral_is_differentiable_for_tensors() -> None:
    x = torch.randn(4, 4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda frames: dihedral(frames, 0, 1, 2, 3), (x,))


def _eq29_reference(angle: np.ndarray) -> np.ndarray:
    """Thesis eq 29 read literally: degrees in [0, 360), split at 120 and 240."""
    degrees = np.mod(np.degrees(angle), 360.0)
    return np.where(degrees < 120.0, 0, np.where(degrees <= 240.0, 1, 2))


def test_butane_modes_follow_eq29_and_name_gauche_by_sign() -> None:
    angles = np.random.default_rng(1).uniform(-np.pi, np.pi, 10000)
    np.testing.assert_array_equal(butane_modes(angles), _eq29_reference(angles))
    assert [BUTANE_MODES[m] for m in butane_modes(np.radians([60.0, 180.0, -60.0]))] == [
        "gauche+",
        "trans",
        "gauche-",
    ]
    boundaries = np.radians([0.0, -0.0, 120.0, -120.0, 119.999, -119.999, 180.0])
    np.testing.assert_array_equal(butane_modes(boundaries), [0, 0, 1, 1, 0, 2, 1])
    labels = butane_modes(torch.from_numpy(boundaries))
    assert isinstance(labels, torch.Tensor) and labels.dtype == torch.int64


def _butane_carbons(torsion: float) -> np.ndarray:
    """Four carbons (nm): C1-C2-C3 in the xy plane, C4 rotated by ``torsion`` about C2→C3."""
    bond, angle = 0.153, np.radians(112.0)
    c2, c3 = np.zeros(3), np.array([bond, 0.0, 0.0])
    c1 = c2 + bond * np.array([-np.cos(np.pi - angle), np.sin(np.pi - angle), 0.0])
    c4_cis = c3 + bond * np.array([np.cos(np.pi - angle), np.sin(np.pi - angle), 0.0])
    c4 = c3 + Rotation.from_rotvec([torsion, 0.0, 0.0]).apply(c4_cis - c3)
    return np.stack([c1, c2, c3, c4])


def test_butane_dihedral_and_modes_of_built_conformers() -> None:
    torsions = np.radians([180.0, 60.0, -60.0, 0.0, 100.0, -150.0])
    frames = np.stack([_butane_carbons(t) for t in torsions])
    angles = butane_dihedral(frames, [0, 1, 2, 3])
    expected = mdtraj.compute_dihedrals(_trajectory(frames.astype(np.float32)), [[0, 1, 2, 3]])
    np.testing.assert_allclose(angles, expected[:, 0], atol=1e-5)  # float32 round-off
    names = [BUTANE_MODES[m] for m in butane_modes(angles)]
    by_sign = ["gauche+" if e > 0 else "gauche-" for e in expected[1:3, 0]]
    assert names[:3] == ["trans", *by_sign]
    assert names[3:] == ["gauche+", "gauche+" if expected[4, 0] > 0 else "gauche-", "trans"]


def test_dialanine_phi_psi_match_mdtraj() -> None:
    trajectory = mdtraj.load(str(ALANINE_DIPEPTIDE_PDB))
    topology = trajectory.topology
    rng = np.random.default_rng(2)
    xyz = trajectory.xyz + rng.normal(scale=0.01, size=(50, *trajectory.xyz.shape[1:]))
    distorted = mdtraj.Trajectory(xyz.astype(np.float32), topology)
    phi_atoms, phi_expected = mdtraj.compute_phi(distorted)
    psi_atoms, psi_expected = mdtraj.compute_psi(distorted)
    phi, psi = phi_psi(distorted.xyz.astype(np.float64), phi_atoms[0], psi_atoms[0])
    np.testing.assert_allclose(phi, phi_expected[:, 0], atol=1e-4)  # see the mdtraj test
    np.testing.assert_allclose(psi, psi_expected[:, 0], atol=1e-4)


def test_signed_volume_is_positive_for_l_alanine(tmp_path: Path) -> None:
    trajectory = mdtraj.load(str(ALANINE_DIPEPTIDE_PDB))
    mirror_pdb = tmp_path / "d-alanine-dipeptide.pdb"
    mdtraj.Trajectory(-trajectory.xyz, trajectory.topology).save_pdb(str(mirror_pdb))

    def atom(name: str) -> int:
        return int(trajectory.topology.select(f"resname ALA and name {name}")[0])

    order = (atom("CA"), atom("N"), atom("C"), atom("CB"))
    for pdb, configuration in ((ALANINE_DIPEPTIDE_PDB, "S"), (mirror_pdb, "R")):
        molecule = Chem.MolFromPDBFile(str(pdb), removeHs=False)
        Chem.AssignStereochemistryFrom3D(molecule)
        # RDKit's CIP label is an independent check: L-alanine is S, D-alanine is R.
        assert dict(Chem.FindMolChiralCenters(molecule))[atom("CA")] == configuration
        xyz = mdtraj.load(str(pdb)).xyz.astype(np.float64)
        volume = signed_volume(torch.from_numpy(xyz), *order)
        assert isinstance(volume, torch.Tensor) and volume.shape == (1,)
        assert (volume.item() > 0) == (configuration == "S")
        assert signed_volume(xyz[0], *order) == pytest.approx(volume.item(), rel=1e-12)


def test_dialanine_states_regions_and_boundaries() -> None:
    degrees = np.array(
        [
            [-80.0, 80.0],  # C7eq
            [-150.0, 160.0],  # C5, extended
            [-70.0, -40.0],  # alphaR
            [-70.0, -100.0],  # alphaR lower edge (closed)
            [-70.0, 50.0],  # alphaR upper edge (closed)
            [-70.0, -100.001],  # just below: extended
            [-70.0, 50.001],  # just above: extended
            [70.0, -70.0],  # C7ax
            [60.0, 40.0],  # alphaL
            [0.0, 0.0],  # phi = 0 is not phi > 0
            [180.0, 170.0],  # phi = +180 is phi > 0
        ]
    )
    phi, psi = np.radians(degrees).T
    expected = ["C7eq", "C7eq", "alphaR", "alphaR", "alphaR", "C7eq", "C7eq"]
    expected += ["C7ax", "C7ax", "alphaR", "C7ax"]
    labels = dialanine_states(phi, psi)
    assert [DIALANINE_STATES[m] for m in labels] == expected
    np.testing.assert_array_equal(minor_mode(phi), labels == 2)
    tensor_labels = dialanine_states(torch.from_numpy(phi), torch.from_numpy(psi))
    assert isinstance(tensor_labels, torch.Tensor)
    np.testing.assert_array_equal(tensor_labels.numpy(), labels)
    assert minor_mode(torch.from_numpy(phi)).dtype == torch.bool


def test_mode_fractions_counts_and_weights() -> None:
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 3, 1000)
    weights = rng.exponential(size=1000)
    brute_unweighted = [np.mean(labels == m) for m in range(4)]
    brute_weighted = [weights[labels == m].sum() / weights.sum() for m in range(4)]
    np.testing.assert_allclose(mode_fractions(labels, 4), brute_unweighted, rtol=1e-12)
    np.testing.assert_allclose(mode_fractions(labels, 4, weights), brute_weighted, rtol=1e-12)
    from_torch = mode_fractions(torch.from_numpy(labels), 4, torch.from_numpy(weights))
    assert isinstance(from_torch, torch.Tensor)
    np.testing.assert_allclose(from_torch.numpy(), brute_weighted, rtol=1e-12)
    # Weights equal within each mode reproduce the plain counts.
    np.testing.assert_allclose(
        mode_fractions(labels, 4, np.full(1000, 2.5)), brute_unweighted, rtol=1e-12
    )


def test_mode_fractions_bad_input() -> None:
    labels = np.array([0, 1, 2])
    with pytest.raises(ConfigError):
        mode_fractions(labels, 2)  # label 2 outside [0, 2)
    with pytest.raises(ConfigError):
        mode_fractions(labels.astype(float), 3)
    with pytest.raises(ConfigError):
        mode_fractions(labels, 3, np.array([1.0, -1.0, 1.0]))
    with pytest.raises(ConfigError):
        mode_fractions(labels, 3, np.zeros(3))
    with pytest.raises(ShapeMismatchError):
        mode_fractions(labels, 3, np.ones(4))


def test_modes_wrap_angles_given_on_0_to_2pi() -> None:
    # Thesis eq 29 reads the dihedral on [0°, 360°); such angles must get the same labels
    # as their (-180°, 180°] equivalents (300° is gauche-, not trans).
    degrees = np.array([300.0, 420.0, 200.0, 60.0, -60.0, -170.0, 120.0, 240.0])
    wrapped = np.degrees(np.arctan2(np.sin(np.radians(degrees)), np.cos(np.radians(degrees))))
    np.testing.assert_array_equal(
        butane_modes(np.radians(degrees)), butane_modes(np.radians(wrapped))
    )
    np.testing.assert_array_equal(butane_modes(np.radians(degrees[:3])), [2, 0, 1])
    phi = torch.tensor(np.radians([300.0, 200.0, 180.0, 60.0]))
    psi = torch.tensor(np.radians([0.0, 150.0, 150.0, -60.0]))
    np.testing.assert_array_equal(dialanine_states(phi, psi).numpy(), [1, 0, 2, 2])
    np.testing.assert_array_equal(minor_mode(phi).numpy(), [False, False, True, True])
    # Angles in (-π, π] are used as they are (boundaries unchanged).
    inside = torch.tensor([math.radians(120.0), -math.radians(120.0), math.pi])
    np.testing.assert_array_equal(butane_modes(inside).numpy(), [1, 1, 1])
