"""``molgen.Generator``: the contract of issues 4 and 8 (shapes, log densities, save/load)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import molgen
import systems
from forcefields.errors import ConfigError, InputFileError


def test_toy_generator_log_prob_matches_samples():
    torch.manual_seed(0)
    generator = molgen.Generator("double_well_wide", width=8, repeats=1, dtype=torch.float64)
    x, log_prob = generator.sample(16, seed=1)
    assert x.shape == (16, 12) and log_prob.shape == (16,)
    # float64 coupling flow: inverse pass equals the forward pass to round-off.
    assert torch.allclose(generator.log_prob(x), log_prob, atol=1e-9)


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
    assert torch.allclose(generator.log_prob(x), log_prob, atol=1e-8)


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
