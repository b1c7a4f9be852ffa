"""``hydrogen_energy``: fitting deterministic hydrogens on data heavy atoms in ``molgen train``
(``hydrogen_kl`` needs a hydrogen stage);
``data.resample_pose``: data with poses drawn from the rigid alignment penalty."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import molgen
import systems
from forcefields.errors import ConfigError
from molgen.generators import build_generator
from molgen.losses import hydrogen_energy, hydrogen_kl
from molgen.training import config_from_mapping, train
from molgen.training.config import DataConfig
from molgen.training.data import load_data

RIGID = {"mode": "rigid", "atoms": "heavy"}


@pytest.fixture(scope="module")
def butane():
    return systems.load("butane")


def _frames(system, n: int, seed: int = 0) -> np.ndarray:
    """``(n, N, 3)`` nm: the minimised structure plus 0.01 nm noise (strained hydrogens)."""
    rng = np.random.default_rng(seed)
    return system.positions[None] + rng.normal(scale=0.01, size=(n, *system.positions.shape))


def _mapping(data_file, hydrogens="deterministic", steps=150) -> dict:
    return {
        "system": "butane",
        "seed": 3,
        "flow": {
            "preset": "molecule",
            "width": 16,
            "repeats": 1,
            "standardize": True,
            "hydrogens": hydrogens,
            "hydrogen_width": 32,
            "hydrogen_repeats": 1,
        },
        "metrics": {"every": 10, "samples": 0},
        "phases": [
            {
                "name": "hydrogens",
                "steps": steps,
                "batch_size": 256,
                "lr": 1.0e-3,
                "losses": {"hydrogen_energy": 1.0},
                "data": {"source": "file", "path": str(data_file)},
                "clip": "default",
            }
        ],
    }


def test_training_phase_lowers_the_hydrogens_energy(butane, tmp_path):
    frames = _frames(butane, 256)
    np.savez(tmp_path / "data.npz", x=frames)
    mapping = _mapping(tmp_path / "data.npz")
    result = train(config_from_mapping(mapping), tmp_path / "run", progress=False)
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert all("hydrogen_energy" in json.loads(line)["losses"] for line in lines)
    energy = butane.energy(dtype=torch.float64, clip="default")
    data = torch.as_tensor(frames, dtype=torch.float32)
    reduced = lambda x: butane.beta * energy(x.reshape(len(x), -1, 3).double())  # noqa: E731
    untrained = build_generator(butane, data, "deterministic", width=16, repeats=1)
    with torch.no_grad():
        before = float(hydrogen_energy(untrained, reduced, data.reshape(256, -1)))
        after = float(hydrogen_energy(result.flow, reduced, data.reshape(256, -1)))
    # Mean-offset hydrogens on noisy heavy atoms start strained (mean beta U 49.9 on
    # these frames); 150 Adam steps bring it to 46.0.
    assert after < before - 2.0


def test_only_the_hydrogen_stage_gets_gradients(butane):
    data = torch.as_tensor(_frames(butane, 32), dtype=torch.float32)
    generator = build_generator(butane, data, "deterministic", width=16, repeats=1)
    energy = butane.energy(dtype=torch.float32)
    loss = hydrogen_energy(generator, lambda x: energy(generator.to_atoms(x)), data.reshape(32, -1))
    loss.backward()
    assert all(p.grad is None for p in generator.heavy_flow.parameters())
    assert any(float(p.grad.abs().max()) > 0 for p in generator.hydrogen_stage.parameters())


def test_a_hydrogen_flow_is_refused(butane, tmp_path):
    for hydrogens in ("flow", None):
        with pytest.raises(ConfigError, match=r"losses\.hydrogen_energy: needs flow\.hydrogens"):
            config_from_mapping(_mapping(tmp_path / "data.npz", hydrogens))
    data = torch.as_tensor(_frames(butane, 4), dtype=torch.float32)
    generator = build_generator(butane, data, "flow", width=8, repeats=1, hydrogen_repeats=1)
    with pytest.raises(ConfigError, match="deterministic hydrogens"):
        hydrogen_energy(generator, lambda x: x.sum(-1), data.reshape(4, -1))


def test_resampled_poses_keep_the_shapes_and_follow_the_penalty(butane, tmp_path):
    frames = _frames(butane, 64) + np.array([1.0, -2.0, 0.5])  # far from the origin
    np.savez(tmp_path / "data.npz", x=frames)
    config = DataConfig(source="file", path=str(tmp_path / "data.npz"), resample_pose=True)
    points = load_data(butane, config, 1.0, seed=4, align=RIGID).reshape(64, butane.n_atoms, 3)
    again = load_data(butane, config, 1.0, seed=4, align=RIGID).reshape(64, butane.n_atoms, 3)
    torch.testing.assert_close(points, again, rtol=0, atol=0)
    distances = torch.cdist(points, points)
    torch.testing.assert_close(distances, torch.cdist(*(torch.as_tensor(frames),) * 2))
    centres = points[:, butane.heavy_atoms].mean(1)
    penalty = butane.energy(dtype=torch.float64, align=RIGID).alignment
    # the penalty pins the heavy-atom barycentre to ~sqrt(1 / (beta k_t)) of the origin
    width = (butane.beta * penalty.translation_stiffness) ** -0.5
    assert float(centres.norm(dim=-1).max()) < 6 * width
    assert float(centres.std(0).mean()) > 0.3 * width


def test_resampled_poses_need_a_rigid_penalty(tmp_path):
    mapping = _mapping(tmp_path / "data.npz")
    mapping["phases"][0]["data"]["resample_pose"] = True
    with pytest.raises(ConfigError, match=r"data\.resample_pose: needs the phase's align"):
        config_from_mapping(mapping)
    mapping["phases"][0]["align"] = RIGID
    config_from_mapping(mapping)


def test_hydrogen_kl_without_a_hydrogen_stage_is_refused(butane, tmp_path):
    mapping = _mapping(tmp_path / "data.npz", None)
    mapping["phases"][0]["losses"] = {"hydrogen_kl": 1.0}
    mapping["phases"][0].pop("data")
    with pytest.raises(ConfigError, match=r"losses\.hydrogen_kl: needs a hydrogen stage"):
        config_from_mapping(mapping)
    one_flow = molgen.Generator("double_well_wide", width=8, repeats=1).flow
    with pytest.raises(ConfigError, match="hydrogen_kl: needs a generator with a hydrogen"):
        hydrogen_kl(one_flow, lambda x: x.sum(-1), 4)
