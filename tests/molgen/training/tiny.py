"""A tiny double-well training config shared by the training tests (seconds to run)."""

from __future__ import annotations

import copy
from typing import Any

TINY: dict[str, Any] = {
    "system": "double_well_medium",
    "seed": 7,
    "flow": {"preset": "double_well", "width": 8, "repeats": 1},
    "metrics": {"every": 4, "samples": 128},
    "checkpoints": {"every": 5, "keep": 2},
    "phases": [
        {
            "name": "pretrain",
            "steps": 12,
            "batch_size": 64,
            "lr": 1.0e-2,
            "losses": {"kl_z_dd": 1.0},
            "data": {"source": "exact", "size": 512},
        },
        {
            "name": "finetune",
            "steps": 12,
            "batch_size": 64,
            "lr": 1.0e-3,
            "schedule": {"kind": "cosine", "final_factor": 0.1},
            "losses": {"l2_plus": 1.0, "pl2_cb": 0.5, "kl_x": 0.0},
            "loss_options": {"pl2_cb": {"keep": 0.5}},
            "grad_clip": 10.0,
        },
    ],
}


def tiny_config(**top_level: Any) -> dict[str, Any]:
    """A deep copy of :data:`TINY` with top-level keys replaced."""
    config = copy.deepcopy(TINY)
    config.update(top_level)
    return config
