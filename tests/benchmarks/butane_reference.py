"""A made-up butane ``molgen reference`` folder (seconds to write) for benchmark tests."""

from __future__ import annotations

import json
from pathlib import Path

import mdtraj
import numpy as np

import systems


def write_butane_reference(folder: Path, chains: int = 2, frames_per_chain: int = 6) -> Path:
    """``folder`` with trajectory.dcd, topology.pdb, frames.npz (``chain``) and stats.json.

    Frames are the minimised structure plus 0.005 nm noise, ordered chain by chain; the
    stats' populations are made up with nonzero errors (only formats are tested).
    """
    butane = systems.load("butane")
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    n = chains * frames_per_chain
    xyz = butane.positions[None] + rng.normal(scale=0.005, size=(n, butane.n_atoms, 3))
    trajectory = mdtraj.Trajectory(xyz.astype(np.float32), butane.topology)
    trajectory.save_dcd(str(folder / "trajectory.dcd"))
    trajectory[:1].save_pdb(str(folder / "topology.pdb"))
    np.savez(folder / "frames.npz", chain=np.repeat(np.arange(chains), frames_per_chain))
    populations = {
        "gauche+": {"mean": 0.2, "sem": 0.02},
        "trans": {"mean": 0.6, "sem": 0.03},
        "gauche-": {"mean": 0.2, "sem": 0.02},
    }
    stats = {"system": "butane", "temperature": 300.0, "populations": populations}
    (folder / "stats.json").write_text(json.dumps(stats))
    return folder
