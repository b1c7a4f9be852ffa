"""Checkpoint files of the tempering samplers: reading them, and refusing the wrong one.

Both :class:`~systems.reference.langevin_tempering.LangevinTempering` and
:class:`~systems.reference.metropolis_tempering.MetropolisTempering` save a dict of
tensors and plain numbers (``torch.save``, atomic) and continue from it only when the
ladder, the state's shape and the settings match the sampler that reads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import torch

from forcefields.errors import ConfigError, InputFileError
from forcefields.torch_input import load_weights_only

__all__ = ["check_resumable", "read_sampler_checkpoint", "stack_records"]


def read_sampler_checkpoint(path: Path | str, entries: Iterable[str]) -> dict:
    """The state dict in ``path`` (``torch.load(weights_only=True)``, onto the CPU), which
    must hold every one of ``entries`` (the keys of the reading sampler's state dict).

    Raises:
        InputFileError: the file is missing, corrupt, holds more than tensors and numbers,
            or lacks some of ``entries`` (named).
    """
    state = load_weights_only(path, "sampler checkpoint")
    missing = sorted(set(entries) - set(state)) if isinstance(state, Mapping) else ["all"]
    if missing:
        raise InputFileError(
            f"{path}: not a checkpoint of this sampler (missing {', '.join(missing)})"
        )
    return state


def check_resumable(
    state: Mapping,
    ladder_key: str,
    ladder: torch.Tensor,
    positions_shape: torch.Size,
    settings: Mapping[str, object],
) -> None:
    """Refuse a checkpoint written by a sampler with another ladder, shape or settings.

    Arguments:
        state: the checkpoint's dict.
        ladder_key: the entry holding the ladder (temperatures or inverse temperatures).
        ladder: this sampler's ladder. positions_shape: its ``positions`` shape.
        settings: this sampler's values of the entries that must match.

    Raises:
        ConfigError: naming the first mismatch.
    """
    if not torch.equal(state[ladder_key], ladder):
        raise ConfigError("checkpoint: its temperature ladder differs from this sampler's")
    if state["positions"].shape != positions_shape:
        raise ConfigError(
            f"checkpoint: positions {tuple(state['positions'].shape)} do not match "
            f"this sampler's {tuple(positions_shape)}"
        )
    for name, value in settings.items():
        if state[name] != value:
            raise ConfigError(f"checkpoint: {name} is {state[name]}, this sampler has {value}")


def stack_records(
    items: list[torch.Tensor], empty_shape: tuple[int, ...], dtype: torch.dtype
) -> torch.Tensor:
    """``torch.stack(items)``, or zeros of ``empty_shape`` when nothing was recorded yet."""
    return torch.stack(items) if items else torch.zeros(empty_shape, dtype=dtype)
