"""A tiny butane training run (seconds to train) shared by the sampling and generator tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import systems
from molgen.training import config_from_mapping, train


def train_butane_run(
    folder: Path,
    *,
    frames: int,
    noise: float,
    seed: int,
    steps: int,
    batch_size: int,
    metrics: dict,
    flow: dict,
    align: dict | None = None,
) -> Path:
    """Train a width-8, one-repeat butane flow by ``kl_z_dd`` on noisy copies of the minimum.

    ``frames`` copies of the minimised structure plus Gaussian noise of ``noise`` nm
    (``numpy`` generator ``seed``) are written to ``folder/data.npz``; ``flow`` adds options
    to the molecule preset and ``align`` sets the phase's alignment penalty. Returns the
    run directory ``folder/run``.
    """
    butane = systems.load("butane")
    rng = np.random.default_rng(seed)
    data = butane.positions[None] + noise * rng.normal(size=(frames, butane.n_atoms, 3))
    np.savez(folder / "data.npz", x=data)
    phase = {
        "name": "pretrain",
        "steps": steps,
        "batch_size": batch_size,
        "lr": 1e-4,
        "losses": {"kl_z_dd": 1.0},
        "data": {"source": "file", "path": str(folder / "data.npz")},
    }
    if align is not None:
        phase["align"] = align
    mapping = {
        "system": "butane",
        "flow": {"preset": "molecule", "width": 8, "repeats": 1, **flow},
        "metrics": metrics,
        "phases": [phase],
    }
    train(config_from_mapping(mapping), folder / "run", progress=False)
    return folder / "run"
