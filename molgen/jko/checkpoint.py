"""Per-step checkpoints of a ``molgen jko`` run, written atomically, read weights-only.

A checkpoint holds everything a run needs to continue exactly as if it had not been
stopped: the configuration it belongs to, the flow (potentials, cloud, log-densities),
the state of stateful functionals (the critic of the variational entropy), the torch
random-number state (CPU, and the GPU's on a GPU run), and the run's progress (step,
seconds, losses, metrics, snapshots).
It contains tensors, numbers, strings, lists and dicts only, so it is read with
``torch.load(..., weights_only=True)`` and a crafted pickle is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from forcefields.atomic_files import torch_save_atomic
from forcefields.errors import InputFileError
from forcefields.torch_input import load_weights_only
from molgen.differences import describe_differences

from .config import JKOConfig, config_to_dict
from .flow import JKOFlow

__all__ = [
    "CHECKPOINT_FORMAT",
    "JKOCheckpointError",
    "save_run_state",
    "load_run_state",
    "check_run_state",
    "config_difference",
]

CHECKPOINT_FORMAT = "molgen.jko.checkpoint/1"


class JKOCheckpointError(InputFileError):
    """A checkpoint is missing, unreadable, unsafe to load or from another configuration."""


def _stateful_terms(functional: Callable) -> list[Any]:
    """The terms of ``functional`` (itself, or a :class:`FreeEnergy`'s terms) with state."""
    terms = getattr(functional, "terms", [functional])
    return [term for term in terms if hasattr(term, "state_dict")]


def save_run_state(
    path: Path, config: JKOConfig, flow: JKOFlow, functional: Callable, progress: dict[str, Any]
) -> None:
    """Writes the run after a completed step to ``path`` atomically.

    Arguments:
        path: Checkpoint file.
        config: The run's configuration (checked on resume).
        flow: The flow after its last step.
        functional: The flow's functional (stateful terms are saved).
        progress: ``step``, ``seconds``, ``losses``, ``metrics`` and ``snapshots`` so far.
    """
    payload = {
        "format": CHECKPOINT_FORMAT,
        "config": config_to_dict(config),
        "flow": flow.state_dict(),
        "functional": [term.state_dict() for term in _stateful_terms(functional)],
        "rng": torch.get_rng_state(),
        "progress": progress,
    }
    device = torch.device(config.device)
    if device.type == "cuda":
        payload["cuda_rng"] = torch.cuda.get_rng_state(device)
    torch_save_atomic(path, payload)


def config_difference(saved: Any, config: JKOConfig) -> str | None:
    """Every field in which the plain-data configuration ``saved`` differs from ``config``,
    with both values (``None``: equal; ``"config"``: ``saved`` is not a configuration
    mapping)."""
    current = config_to_dict(config)
    if saved == current:
        return None
    if not isinstance(saved, dict):
        return "config"
    return "; ".join(describe_differences(saved, current, nested=True)) or (
        "config written differently"
    )


def _read_checked(path: Path, config: JKOConfig) -> dict:
    """The payload of the checkpoint ``path``, checked to be of ``config``."""
    path = Path(path)
    if not path.is_file():
        raise JKOCheckpointError(f"{path}: no checkpoint to resume from")
    payload = load_weights_only(path, "molgen jko checkpoint", JKOCheckpointError, None)
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise JKOCheckpointError(f"{path}: not a molgen jko checkpoint")
    field = config_difference(payload.get("config"), config)
    if field is not None:
        raise JKOCheckpointError(
            f"{path}: written with a different configuration ({field}); resume with the same "
            "config and flags"
        )
    return payload


def check_run_state(path: Path, config: JKOConfig) -> None:
    """Checks that ``path`` can be resumed with ``config`` without restoring anything
    (raises :class:`JKOCheckpointError` as :func:`load_run_state` does)."""
    _read_checked(path, config)


def load_run_state(path: Path, config: JKOConfig, flow: JKOFlow, functional: Callable) -> dict:
    """Restores ``flow``, the functional's state and the torch RNG from ``path``.

    Returns the saved progress (see :func:`save_run_state`).

    Raises:
        JKOCheckpointError: no file, not a weights-only jko checkpoint, or a checkpoint of a
            different configuration (the message names the first differing field).
    """
    payload = _read_checked(path, config)
    flow.load_state_dict(payload["flow"])
    for term, state in zip(_stateful_terms(functional), payload["functional"], strict=True):
        term.load_state_dict(state)
    torch.set_rng_state(payload["rng"])
    if "cuda_rng" in payload:
        torch.cuda.set_rng_state(payload["cuda_rng"], torch.device(config.device))
    return payload["progress"]
