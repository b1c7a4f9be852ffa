"""The internal-coordinate generator: Z-matrix, coordinate maps, exact density, chirality."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import systems
from forcefields.rigid_pose import RigidPose
from forcefields.rotations import rotation_vector_to_matrix
from molgen.finite_rows import on_finite_rows
from molgen.generators.chirality import d_fraction
from molgen.generators.internal import internal_generator
from molgen.generators.internal_coordinates import log_volume, to_cartesian, to_internal

ALIGN = {"mode": "rigid", "atoms": "heavy"}


def _generator(name: str, seed: int = 0):
    torch.manual_seed(seed)
    system = systems.load(name)
    penalty = system.energy(dtype=torch.float64, align=ALIGN).alignment
    generator = internal_generator(
        system, RigidPose(penalty, system.beta), 16, 2, hydrogen_width=16, hydrogen_repeats=1
    ).double()
    return system, generator


def _noisy_copies(system, n: int, scale: float, seed: int = 0) -> torch.Tensor:
    """``(n, 3N)`` copies of the minimum with Gaussian noise of ``scale`` nm."""
    generator = torch.Generator().manual_seed(seed)
    positions = torch.as_tensor(system.positions, dtype=torch.float64)
    noise = scale * torch.randn(n, *positions.shape, generator=generator, dtype=torch.float64)
    return (positions + noise).reshape(n, -1)


@pytest.fixture(scope="module", params=["butane", "dialanine"])
def fitted(request):
    system, generator = _generator(request.param)
    generator.fit_to_data(_noisy_copies(system, 256, 0.003))
    return system, generator


def test_zmatrix_places_each_atom_once_after_its_references(fitted):
    system, generator = fitted
    zmatrix = generator.zmatrix
    assert sorted(zmatrix.order.tolist()) == list(range(system.n_atoms))
    position = {int(atom): n for n, atom in enumerate(zmatrix.order)}
    for n, references in enumerate(zmatrix.references):
        assert all(position[int(r)] < n + 3 for r in references)
        assert len(set(references.tolist())) == 3
    heavy = set(system.heavy_atoms.tolist())
    assert set(zmatrix.order[: zmatrix.n_heavy].tolist()) == heavy
    hydrogen_refs = zmatrix.references[zmatrix.n_heavy - 3 :]
    assert all(int(r[0]) in heavy and int(r[1]) in heavy for r in hydrogen_refs)


def test_internal_coordinates_round_trip(fitted):
    system, generator = fitted
    x = _noisy_copies(system, 32, 0.01).reshape(32, -1, 3)
    internal = to_internal(x, generator.zmatrix)
    rebuilt = to_cartesian(internal, generator.zmatrix)
    # Same shape up to a rigid motion: internal coordinates agree to float64 round-off.
    assert torch.allclose(to_internal(rebuilt, generator.zmatrix), internal, rtol=0, atol=1e-12)


def test_volume_element_equals_brute_force_jacobian(fitted):
    _, generator = fitted
    zmatrix = generator.zmatrix
    internal = to_internal(generator.to_atoms(generator.sample(1)[0].detach()), zmatrix)[0]
    rotation_vector = torch.tensor([0.4, -0.3, 0.7], dtype=torch.float64)

    def cartesian(values: torch.Tensor) -> torch.Tensor:
        translation, vector, body = values[:3], values[3:6], values[6:]
        shape = to_cartesian(body[None], zmatrix)[0]
        return (shape @ rotation_vector_to_matrix(vector).T + translation).reshape(-1)

    point = torch.cat([torch.zeros(3, dtype=torch.float64), rotation_vector, internal])
    log_det = torch.linalg.slogdet(torch.autograd.functional.jacobian(cartesian, point))[1]
    angle = float(rotation_vector.norm())
    # Normalised Haar measure in rotation-vector coordinates: 2(1 - cos θ)/θ² d³ω / (8π²).
    log_haar = math.log(2.0 * (1.0 - math.cos(angle)) / angle**2) - math.log(8.0 * math.pi**2)
    assert float(log_det - log_haar) == pytest.approx(float(log_volume(internal[None])), abs=1e-9)


def test_feature_map_log_jacobian_matches_autograd(fitted):
    _, generator = fitted
    features = torch.randn(4, generator.heavy_features + generator.hydrogen_features).double()
    internal, log_jacobian = generator.features(features)
    for row in range(len(features)):
        jacobian = torch.autograd.functional.jacobian(
            lambda f: generator.features(f[None])[0][0], features[row]
        )
        assert float(log_jacobian[row]) == pytest.approx(
            float(torch.linalg.slogdet(jacobian)[1]), abs=1e-10
        )
    back, _ = generator.features.inverse(internal)
    assert torch.allclose(back, features, rtol=0, atol=1e-9)


def test_log_prob_of_samples_equals_returned_log_prob(fitted):
    _, generator = fitted
    x, log_prob = generator.sample(64)
    # float64 throughout: the inverse pass repeats the forward one to round-off.
    assert torch.allclose(generator.log_prob(x), log_prob, rtol=0, atol=1e-8)


def test_log_prob_is_invariant_to_pose_only_through_the_pose_density(fitted):
    system, generator = fitted
    x = generator.sample(8)[0].detach()
    atoms = generator.to_atoms(x)
    shape, rotation, translation = generator.pose.pose(atoms)
    moved = shape @ rotation.mT.flip(0) + translation.flip(0)[:, None]
    difference = generator.log_prob(moved.reshape(8, -1)) - generator.log_prob(x)
    expected = generator.pose.log_prob(rotation.flip(0), translation.flip(0))
    expected = expected - generator.pose.log_prob(rotation, translation)
    assert torch.allclose(difference, expected, rtol=0, atol=1e-8)


def test_canonical_relabelling_keeps_energy_and_is_idempotent():
    system, generator = _generator("butane")
    x = _noisy_copies(system, 64, 0.002)
    rotor = generator.rotors[0].tolist()
    atoms = generator.to_atoms(x).clone()
    atoms[:, rotor] = atoms[:, [rotor[1], rotor[2], rotor[0]]]
    relabelled = atoms.reshape(64, -1)
    canonical = generator.canonical(relabelled)
    energy = system.energy(dtype=torch.float64)
    assert torch.allclose(
        energy(generator.to_atoms(canonical)), energy(generator.to_atoms(relabelled)), rtol=1e-12
    )
    assert torch.equal(generator.canonical(canonical), canonical)
    assert torch.allclose(canonical, x, rtol=0, atol=1e-12)


def test_domain_holds_every_canonical_labelling(fitted):
    """Canonical frames, even with unevenly spaced rotor hydrogens, have finite density;
    ``is_canonical`` tells them from the other labellings the domain also holds."""
    system, generator = fitted
    frames = generator.canonical(_noisy_copies(system, 256, 0.01, seed=5))
    assert torch.all(generator.is_canonical(frames))
    assert torch.all(torch.isfinite(generator.log_prob(frames)))
    atoms = generator.to_atoms(frames)
    for rotor in generator.rotors.tolist():
        cycled = atoms.clone()
        cycled[:, rotor] = atoms[:, [rotor[1], rotor[2], rotor[0]]]
        assert not torch.any(generator.is_canonical(cycled.reshape(len(frames), -1)))


def test_dialanine_samples_are_all_l_by_construction():
    system, generator = _generator("dialanine", seed=3)
    generator.fit_to_data(_noisy_copies(system, 256, 0.003))
    with torch.no_grad():
        for layer in generator.heavy_flow.transform.layers[-1:]:
            layer.std.mul_(8.0)
        x = generator.sample(2000)[0]
    assert d_fraction(generator.to_atoms(x)) == 0.0


def test_free_torsion_is_cut_in_the_widest_gap_of_the_data():
    system, generator = _generator("butane")
    x = _noisy_copies(system, 256, 0.003)
    generator.fit_to_data(x)
    samples = generator.to_atoms(generator.sample(4000)[0].detach())
    dihedral = np.degrees(np.asarray(system.observables["dihedral"](samples)))
    # Trained on trans only: the standardised spline keeps samples near 180°, and the cut
    # (opposite, near 0°) is never crossed.
    assert np.all(np.abs(dihedral) > 90.0)


def test_a_sample_whose_coordinates_overflow_gets_a_nan_density_not_an_error():
    # the pose's alignment refuses non-finite frames: one overflowed sample ended the
    # whole batch (a training step, a sampling call)
    system, generator = _generator("butane")
    generator.fit_to_data(_noisy_copies(system, 256, 0.003))
    z = torch.randn(3, generator.latent_dim, dtype=torch.float64)
    x, log_prob = generator.sample_from_latent(z)
    spoiled = x.clone()
    spoiled[1, 0] = torch.inf
    density = generator.log_prob(spoiled)
    assert not torch.isfinite(density[1])
    torch.testing.assert_close(density[[0, 2]], log_prob[[0, 2]], rtol=1e-9, atol=1e-9)
    # sampling: the alignment of a shape whose Cartesian coordinates overflowed
    atoms = generator.to_atoms(spoiled)
    aligned = on_finite_rows(generator.pose.aligned, atoms)
    assert torch.isnan(aligned[1]).all()
    torch.testing.assert_close(aligned[[0, 2]], generator.pose.aligned(atoms[[0, 2]]))


@pytest.mark.parametrize("name", ["butane", "dialanine"])
def test_an_empty_batch_and_a_batch_with_no_finite_sample_pass_through(name):
    # a batch that overflowed entirely must give non-finite densities, not a reshape error
    system, generator = _generator(name)
    empty = torch.zeros(0, generator.latent_dim, dtype=torch.float64)
    x, log_prob = generator.sample_from_latent(empty)
    assert x.shape == (0, 3 * system.n_atoms) and log_prob.shape == (0,)
    assert generator.log_prob(x).shape == (0,)
    spoiled = torch.full((2, 3 * system.n_atoms), torch.inf, dtype=torch.float64)
    assert not torch.isfinite(generator.log_prob(spoiled)).any()
