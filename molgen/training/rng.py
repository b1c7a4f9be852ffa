"""Random-number-generator states as plain tensors, and seeds derived from words.

States are stored as tensors and Python scalars only, so checkpoints load with
``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

__all__ = ["capture_global_state", "derive_seed", "restore_global_state", "seed_everything"]


def derive_seed(*words: int | str) -> int:
    """A 63-bit seed determined by ``words`` (e.g. ``(seed, "data", rank)``), via numpy's
    ``SeedSequence`` so that nearby inputs give unrelated streams."""
    entropy = [
        word if isinstance(word, int) else int.from_bytes(word.encode(), "little") for word in words
    ]
    low, high = np.random.SeedSequence(entropy).generate_state(2)
    return int((int(high) << 32 | int(low)) & (2**63 - 1))


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA), numpy and Python's ``random`` from one seed."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def capture_global_state() -> dict[str, Any]:
    """The global torch, CUDA, numpy and Python RNG states as tensors and scalars."""
    _, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
        "python": {
            "version": int(version),
            "internal": torch.tensor(internal, dtype=torch.int64),
            "gauss_next": gauss_next,
        },
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_global_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_global_state`."""
    torch.set_rng_state(state["torch"])
    numpy_state = state["numpy"]
    np.random.set_state(
        (
            "MT19937",
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["position"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    python_state = state["python"]
    random.setstate(
        (
            python_state["version"],
            tuple(int(value) for value in python_state["internal"].tolist()),
            python_state["gauss_next"],
        )
    )
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
