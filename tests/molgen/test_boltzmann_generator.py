"""``molgen.Generator``: the contract of issues 4 and 8 (shapes, log densities, save/load)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

import molgen
import systems
from forcefields.errors import (
    ConfigError,
    InputFileError,
    NonFiniteCoordinatesError,
    ShapeMismatchError,
    TooFewSamplesError,
)
from molgen.sampling.generator import draw_samples, load_run
from molgen.training import config_from_mapping, train
from tests.molgen.butane_run import train_butane_run
from tests.molgen.training.tiny import tiny_config

WEIGHTED_RIGID = {"mode": "rigid", "atoms": "heavy", "weight": 5.0}
"""A rigid alignment with a non-default weight (kJ/mol/nm²): its pose precisions differ
from those of :data:`molgen.boltzmann_generator.RIGID_ALIGNMENT`."""


def test_toy_generator_log_prob_matches_samples():
    torch.manual_seed(0)
    generator = molgen.Generator("double_well_wide", width=8, repeats=1, dtype=torch.float64)
    x, log_prob = generator.sample(16, seed=1)
    assert x.shape == (16, 12) and log_prob.shape == (16,)
    # float64 coupling flow: inverse pass equals the forward pass to round-off.
    assert torch.allclose(generator.log_prob(x), log_prob, rtol=0, atol=1e-9)


@pytest.mark.parametrize("seed", [None, 1])
def test_samples_carry_no_autograd_graph(seed):
    # a graph would keep every layer's activations of a large draw in memory
    generator = molgen.Generator("double_well_wide", width=8, repeats=1)
    x, log_prob = generator.sample(8, seed=seed)
    assert not x.requires_grad and not log_prob.requires_grad


@pytest.mark.parametrize("coordinates", ["internal", "cartesian"])
def test_molecular_generator_with_flow_hydrogens_is_exact(coordinates):
    torch.manual_seed(0)
    system = systems.load("butane")
    generator = molgen.Generator(
        system,
        coordinates=coordinates,
        width=8,
        repeats=1,
        hydrogen_width=8,
        hydrogen_repeats=1,
        dtype=torch.float64,
    )
    rng = np.random.default_rng(0)
    data = system.positions[None] + 0.003 * rng.standard_normal((64, system.n_atoms, 3))
    generator.fit(torch.as_tensor(data))
    x, log_prob = generator.sample(8, seed=2)
    assert x.shape == (8, system.n_atoms, 3)
    assert torch.allclose(generator.log_prob(x), log_prob, rtol=0, atol=1e-8)


def test_deterministic_hydrogens_give_heavy_atom_density():
    torch.manual_seed(0)
    generator = molgen.Generator(
        "butane", hydrogens="deterministic", width=8, repeats=1, hydrogen_width=8
    )
    x, log_prob = generator.sample(4, seed=0)
    assert x.shape == (4, 14, 3) and log_prob.shape == (4,)
    assert not generator.flow.exact_density


def test_save_and_load_round_trip(tmp_path):
    torch.manual_seed(0)
    generator = molgen.Generator("butane", width=8, repeats=1, hydrogen_width=8, hydrogen_repeats=1)
    positions = torch.as_tensor(systems.load("butane").positions)
    generator.fit(positions + 0.003 * torch.randn(32, *positions.shape, dtype=positions.dtype))
    generator.save(tmp_path / "g.pt")
    loaded = molgen.Generator.load(tmp_path / "g.pt")
    x, log_prob = generator.sample(4, seed=5)
    y, log_prob_loaded = loaded.sample(4, seed=5)
    assert torch.equal(x, y) and torch.equal(log_prob, log_prob_loaded)


def test_bad_options_and_files_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="hydrogens"):
        molgen.Generator("butane", hydrogens="none")
    with pytest.raises(ConfigError, match="unknown architecture option"):
        molgen.Generator("butane", depth=3)
    (tmp_path / "junk.pt").write_bytes(b"not a generator")
    with pytest.raises(InputFileError, match="junk.pt"):
        molgen.Generator.load(tmp_path / "junk.pt")
    with pytest.raises(InputFileError, match="not found"):
        molgen.Generator.load(tmp_path / "missing.pt")


@pytest.mark.parametrize(
    "system, option, value, message",
    [
        ("double_well_wide", "width", 0, "must be positive"),
        ("double_well_wide", "width", "64", "expected int"),
        ("double_well_wide", "repeats", 2.5, "expected int"),
        ("double_well_wide", "width", True, "expected int"),
        ("butane", "hydrogen_repeats", 0, "must be positive"),
    ],
)
def test_architecture_values_are_type_checked(system, option, value, message):
    with pytest.raises(ConfigError, match=rf"^Generator\.{option}: {message}"):
        molgen.Generator(system, **{option: value})


def _train_butane(folder: Path, flow: dict, align: dict | None = None) -> Path:
    """A one-step butane run with ``flow`` options on noisy copies of the minimum."""
    return train_butane_run(
        folder,
        frames=64,
        noise=0.003,
        seed=0,
        steps=1,
        batch_size=8,
        metrics={"every": 1, "samples": 0},
        flow=flow,
        align=align,
    )


@pytest.fixture(scope="module")
def aligned_run(tmp_path_factory) -> Path:
    """Internal coordinates, flow hydrogens, a rigid alignment of weight 5."""
    flow = {
        "standardize": True,
        "hydrogens": "flow",
        "hydrogen_width": 8,
        "hydrogen_repeats": 1,
        "coordinates": "internal",
    }
    return _train_butane(tmp_path_factory.mktemp("aligned"), flow, WEIGHTED_RIGID)


@pytest.fixture(scope="module")
def all_atom_run(tmp_path_factory) -> Path:
    """One Cartesian flow over all atoms (``hydrogens: null``)."""
    return _train_butane(tmp_path_factory.mktemp("all_atom"), {"standardize": True})


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory) -> Path:
    """The tiny double-well run (``standardize: false``)."""
    mapping = tiny_config(metrics={"every": 2, "samples": 0})
    mapping["phases"][0]["steps"] = mapping["phases"][1]["steps"] = 2
    run_dir = tmp_path_factory.mktemp("toy") / "run"
    train(config_from_mapping(mapping), run_dir, progress=False)
    return run_dir


def test_saved_run_generator_keeps_its_alignment_weight(aligned_run, tmp_path):
    generator = molgen.Generator.from_run(aligned_run)
    assert generator.config.align == WEIGHTED_RIGID
    generator.save(tmp_path / "g.pt")
    loaded = molgen.Generator.load(tmp_path / "g.pt")
    assert loaded.config == generator.config
    assert loaded.flow.pose.translation_precision == generator.flow.pose.translation_precision
    # Same weights and pose precisions, same CPU operations: bitwise equal results.
    x, log_prob = generator.sample(6, seed=3)
    y, log_prob_loaded = loaded.sample(6, seed=3)
    assert torch.equal(x, y) and torch.equal(log_prob, log_prob_loaded)
    assert torch.equal(loaded.log_prob(x), generator.log_prob(x))


@pytest.mark.parametrize("run", ["all_atom_run", "toy_run"])
def test_saved_run_generator_without_hydrogen_stage_or_standardization_round_trips(
    run, request, tmp_path
):
    generator = molgen.Generator.from_run(request.getfixturevalue(run))
    assert generator.config.hydrogens is None
    generator.save(tmp_path / "g.pt")
    loaded = molgen.Generator.load(tmp_path / "g.pt")
    assert loaded.config == generator.config
    x, log_prob = generator.sample(5, seed=1)
    y, log_prob_loaded = loaded.sample(5, seed=1)
    # Same weights, same CPU operations: bitwise equal results.
    assert torch.equal(x, y) and torch.equal(log_prob, log_prob_loaded)
    assert torch.equal(loaded.log_prob(x), generator.log_prob(x))


def test_load_names_the_file_when_weights_do_not_fit(tmp_path):
    torch.manual_seed(0)
    molgen.Generator("double_well_2d", width=8, repeats=1).save(tmp_path / "g.pt")
    payload = torch.load(tmp_path / "g.pt", weights_only=True)
    payload["config"]["width"] = 16
    torch.save(payload, tmp_path / "wide.pt")
    with pytest.raises(InputFileError, match=r"wide\.pt: weights do not fit"):
        molgen.Generator.load(tmp_path / "wide.pt")
    payload["config"]["depth"] = 3
    torch.save(payload, tmp_path / "unknown.pt")
    with pytest.raises(InputFileError, match=r"unknown\.pt: unknown flow config \['depth'\]"):
        molgen.Generator.load(tmp_path / "unknown.pt")


def test_loading_a_training_checkpoint_points_to_from_run(toy_run):
    # it used to say only "not a file written by molgen.Generator.save"
    checkpoint = next((toy_run / "checkpoints").glob("*.pt"))
    with pytest.raises(InputFileError, match=r"a molgen train checkpoint; .*from_run\("):
        molgen.Generator.load(checkpoint)
    generator = molgen.Generator.from_run(toy_run, checkpoint=checkpoint)
    assert generator.sample(2)[0].shape[0] == 2


def test_seeded_samples_are_those_of_molgen_sample(toy_run):
    generator = molgen.Generator.from_run(toy_run, device="cpu")
    x, log_prob = generator.sample(5, seed=11)
    arrays = draw_samples(load_run(toy_run), 11, 0, 5)
    # Same latents through the same CPU flow: bitwise equal.
    np.testing.assert_array_equal(x.detach().numpy(), arrays["x"])
    np.testing.assert_array_equal(log_prob.detach().numpy(), arrays["log_p_g"])
    # Sample k's latent does not depend on n; the float32 matrix products may block
    # differently for another batch size, so agreement is to float32 round-off.
    prefix, _ = generator.sample(3, seed=11)
    assert torch.allclose(prefix, x[:3], rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_seeded_samples_agree_across_devices(toy_run):
    cpu = molgen.Generator.from_run(toy_run)
    gpu = molgen.Generator.from_run(toy_run, device="cuda")
    x, log_prob = cpu.sample(64, seed=2)
    x_gpu, log_prob_gpu = gpu.sample(64, seed=2)
    assert x_gpu.device.type == "cuda"
    # Same float64 latents; the float32 flow's kernels round differently on the GPU
    # (~1e-7 relative per operation over a few coupling layers), far below 1e-4 relative.
    assert torch.allclose(x_gpu.cpu(), x, rtol=1e-4, atol=1e-6)
    assert torch.allclose(log_prob_gpu.cpu(), log_prob, rtol=1e-4, atol=1e-6)
    # CPU points are moved to the generator's device.
    assert torch.allclose(gpu.log_prob(x).cpu(), log_prob, rtol=1e-4, atol=1e-6)


def test_wrong_shapes_and_sample_counts_are_refused():
    torch.manual_seed(0)
    toy = molgen.Generator("double_well_2d", width=8, repeats=1)
    x, _ = toy.sample(3, seed=0)
    for bad in (x[0], x[:, :1], x[:, :, None]):
        got = re.escape(str(tuple(bad.shape)))
        with pytest.raises(ShapeMismatchError, match=rf"expected .*\(B, 2\).*got {got}"):
            toy.log_prob(bad)
    butane = systems.load("butane")
    molecule = molgen.Generator(
        butane, coordinates="cartesian", width=8, repeats=1, hydrogen_width=8, hydrogen_repeats=1
    )
    x, log_prob = molecule.sample(2, seed=0)
    for bad in (x.transpose(1, 2), x[0], x[0].reshape(-1), x[:, :-1]):
        with pytest.raises(ShapeMismatchError, match=r"\(B, 14, 3\) or \(B, 42\)"):
            molecule.log_prob(bad)
    with pytest.raises(ShapeMismatchError, match=r"got \(2, 3, 14\)"):
        molecule.fit(x.transpose(1, 2))
    # Accepted forms agree (flat, and float64 numpy cast to the float32 parameters).
    assert torch.equal(molecule.log_prob(x.reshape(2, -1)), molecule.log_prob(x))
    assert torch.equal(molecule.log_prob(x.detach().double().numpy()), molecule.log_prob(x))
    for n in (0, -1, 2.5):
        with pytest.raises(ConfigError, match="n must be an integer >= 1"):
            toy.sample(n)


def test_fit_refuses_too_few_or_non_finite_frames():
    torch.manual_seed(0)
    toy = molgen.Generator("double_well_2d", width=8, repeats=1)
    with pytest.raises(TooFewSamplesError, match="1 frame"):
        toy.fit(torch.zeros(1, 2))
    with pytest.raises(NonFiniteCoordinatesError, match=r"frame\(s\) \[1\]"):
        toy.fit(torch.tensor([[0.0, 1.0], [float("nan"), 0.0], [1.0, 2.0]]))
    with pytest.raises(ValueError, match=r"Generator.fit: .*feature\(s\) \[1\]"):
        toy.fit(torch.tensor([[0.0, 1.0], [1.0, 1.0]]))
    butane = systems.load("butane")
    internal = molgen.Generator(butane, width=8, repeats=1, hydrogen_width=8, hydrogen_repeats=1)
    positions = torch.as_tensor(butane.positions)
    with pytest.raises(TooFewSamplesError, match="1 frame"):
        internal.fit(positions[None])
    with pytest.raises(TooFewSamplesError, match="internal-coordinate fit: 1 of 1 frame"):
        internal.flow.fit_to_data(positions.reshape(1, -1).float())


def test_molecule_options_are_refused_for_toys():
    for option in (
        {"hydrogen_width": 8},
        {"hydrogen_repeats": 1},
        {"hydrogens": "flow"},
        {"coordinates": "cartesian"},
    ):
        with pytest.raises(ConfigError, match=f"{next(iter(option))}' applies to molecules only"):
            molgen.Generator("double_well_2d", **option)
    with pytest.raises(ConfigError, match="deterministic hydrogens need 'cartesian'"):
        molgen.Generator("butane", hydrogens="deterministic", coordinates="internal")


def test_load_restores_the_saved_temperature(tmp_path):
    torch.manual_seed(0)
    warm = systems.load("butane", temperature=350.0)
    molgen.Generator(warm, width=8, repeats=1, hydrogen_width=8, hydrogen_repeats=1).save(
        tmp_path / "g.pt"
    )
    assert molgen.Generator.load(tmp_path / "g.pt").system.temperature == 350.0
    molgen.Generator(systems.load("double_well_wide", temperature=2.0), width=8).save(
        tmp_path / "toy.pt"
    )
    assert molgen.Generator.load(tmp_path / "toy.pt").system.beta == 0.5


def test_a_directory_system_reloads_when_given_and_is_asked_for_otherwise(tmp_path, monkeypatch):
    import shutil

    folder = tmp_path / "my_butane"
    folder.mkdir()
    for name in ("butane.psf", "butane.prm", "butane.pdb"):
        shutil.copy(Path(systems.__file__).parent / "butane" / name, folder / name)
    torch.manual_seed(0)
    generator = molgen.Generator(
        systems.load(folder), width=8, repeats=1, hydrogen_width=8, hydrogen_repeats=1
    )
    generator.save(tmp_path / "g.pt")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with pytest.raises(
        InputFileError, match=r"g\.pt: .*my_butane.*Generator\.load\(\.\.\., system"
    ):
        molgen.Generator.load(tmp_path / "g.pt")
    loaded = molgen.Generator.load(tmp_path / "g.pt", system=folder)
    x, log_prob = generator.sample(3, seed=2)
    y, log_prob_loaded = loaded.sample(3, seed=2)
    assert torch.equal(x, y) and torch.equal(log_prob, log_prob_loaded)
