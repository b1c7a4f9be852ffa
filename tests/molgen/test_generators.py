"""Two-stage molecular generators: densities, assembly, chirality counting."""

import numpy as np
import pytest
import torch

import systems
from forcefields.errors import UnknownNameError
from molgen.generators import build_generator, d_fraction, is_d_residue


@pytest.fixture(scope="module")
def dialanine():
    return systems.load("dialanine")


def _data(system, n=128, seed=0):
    rng = np.random.default_rng(seed)
    return torch.as_tensor(
        system.positions[None] + rng.normal(scale=0.01, size=(n, *system.positions.shape))
    )


@pytest.mark.parametrize("stage", ["flow", "deterministic"])
def test_sample_density_matches_log_prob(dialanine, stage):
    torch.manual_seed(1)
    generator = build_generator(
        dialanine,
        _data(dialanine),
        stage,
        width=16,
        repeats=2,
        hydrogen_width=16,
        hydrogen_repeats=1,
    ).double()
    x, log_prob = generator.sample(32)
    assert x.shape == (32, 66)
    # Forward and inverse passes of the same float64 flows agree to round-off.
    torch.testing.assert_close(generator.log_prob(x), log_prob, rtol=0, atol=1e-8)


def test_hydrogen_flow_gives_a_density_over_hydrogens(dialanine):
    torch.manual_seed(2)
    exact = build_generator(
        dialanine,
        _data(dialanine),
        "flow",
        width=16,
        repeats=1,
        hydrogen_width=16,
        hydrogen_repeats=1,
    ).double()
    deterministic = build_generator(
        dialanine, _data(dialanine), "deterministic", width=16, repeats=1
    ).double()
    x, _ = exact.sample(8)
    moved = exact.to_atoms(x).clone()
    moved[:, dialanine.hydrogens[0], 0] += 0.01
    moved = moved.reshape(8, -1)
    assert exact.exact_density and not deterministic.exact_density
    assert not torch.allclose(exact.log_prob(moved), exact.log_prob(x))
    torch.testing.assert_close(deterministic.log_prob(moved), deterministic.log_prob(x))


def test_hydrogens_sit_on_their_parents_offsets(dialanine):
    generator = build_generator(dialanine, _data(dialanine), "deterministic", width=16, repeats=1)
    x, _ = generator.sample(16)
    atoms = generator.to_atoms(x)
    bond = (atoms[:, dialanine.hydrogens] - atoms[:, dialanine.hydrogen_parents]).norm(dim=-1)
    # An untrained deterministic stage places each H at the data's mean offset: X-H bonds ≈ 0.1 nm.
    assert torch.all((bond > 0.09) & (bond < 0.12))


def test_mirror_images_count_as_d(dialanine):
    x = torch.as_tensor(dialanine.positions)[None]
    mirrored = x * torch.tensor([-1.0, 1.0, 1.0])
    assert not bool(is_d_residue(x)[0]) and bool(is_d_residue(mirrored)[0])
    assert d_fraction(torch.cat([x, mirrored, x, x])) == 0.25


def test_unknown_stage(dialanine):
    with pytest.raises(UnknownNameError, match="hydrogen_stage"):
        build_generator(dialanine, _data(dialanine), "magic")


def test_local_frames_round_trip_and_keep_bond_lengths(dialanine):
    generator = build_generator(
        dialanine,
        _data(dialanine),
        "flow",
        width=16,
        repeats=1,
        hydrogen_width=16,
        hydrogen_repeats=1,
    ).double()
    x = _data(dialanine, n=8, seed=3).reshape(8, -1)
    heavy, local = generator.split(x)
    torch.testing.assert_close(generator.assemble(heavy, local), x)
    # The local frame is a rotation: |local offset| is the X-H bond length.
    atoms = generator.to_atoms(x)
    bonds = (atoms[:, dialanine.hydrogens] - atoms[:, dialanine.hydrogen_parents]).norm(dim=-1)
    torch.testing.assert_close(local.norm(dim=-1), bonds)


@pytest.mark.parametrize("stage", ["flow", "deterministic"])
def test_an_empty_batch_passes_through_both_stages(dialanine, stage):
    # a batch whose every sample overflowed reaches the stages as an empty batch
    generator = build_generator(
        dialanine, _data(dialanine), stage, width=16, repeats=1, hydrogen_width=16
    ).double()
    x, log_prob = generator.sample_from_latent(
        torch.zeros(0, generator.latent_dim, dtype=torch.float64)
    )
    assert x.shape == (0, 66) and log_prob.shape == (0,)
    assert generator.log_prob(x).shape == (0,)


def test_deterministic_hydrogens_start_apart_when_methyl_labels_rotate_in_the_data():
    # In MD data a methyl's hydrogens trade places (a 120° turn relabels them); the mean
    # offset of each label then lies on the C-C axis. Butane's methyl H-H distance is
    # 0.178 nm (C-H 0.109 nm at 109.5°); a start collapsed onto the axis puts them 0.01 nm
    # apart.
    butane = systems.load("butane")
    data = _data(butane, n=96, seed=3).numpy().copy()
    parents = np.asarray(butane.hydrogen_parents)
    hydrogens = np.asarray(butane.hydrogens)
    methyls = [hydrogens[parents == p] for p in np.unique(parents) if (parents == p).sum() == 3]
    assert len(methyls) == 2
    for frame in range(len(data)):
        for methyl in methyls:
            data[frame, methyl] = data[frame, np.roll(methyl, frame % 3)]
    generator = build_generator(
        butane, torch.as_tensor(data), "deterministic", width=16, repeats=1, hydrogen_width=16
    ).double()
    atoms = generator.to_atoms(generator.sample(16)[0]).detach()
    for methyl in methyls:
        spread = torch.pdist(atoms[0, torch.as_tensor(methyl)])
        # thermal noise of 0.01 nm in the data moves the mean offsets by far less than 0.02
        torch.testing.assert_close(spread, torch.full_like(spread, 0.178), atol=0.02, rtol=0)
