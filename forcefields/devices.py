"""Turning a user's device name into a ``torch.device``, with errors that name the field."""

from __future__ import annotations

import torch

from forcefields.errors import ConfigError

__all__ = ["resolve_device", "finish_device_work"]


def resolve_device(name: str | torch.device, field: str = "device") -> torch.device:
    """``torch.device(name)`` once it is known to be usable here.

    Raises:
        ConfigError: ``name`` is no device name, names a device type other than ``cpu`` and
            ``cuda``, or a CUDA device this machine does not have.
    """
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as error:
        raise ConfigError(f"{field}: {name!r} is not a device name (cpu, cuda, cuda:1)") from error
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(
            f"{field}: {name!r} is not supported (molgen runs on cpu and cuda[:index])"
        )
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"{field}: {name!r} requested but CUDA is not available")
    if device.type == "cuda" and device.index is not None:
        count = torch.cuda.device_count()
        if device.index >= count:
            raise ConfigError(
                f"{field}: {name!r} requested but this machine has {count} CUDA device(s)"
            )
    return device


def finish_device_work(device: torch.device | str) -> None:
    """Waits for queued GPU kernels, so that wall-clock times include them (CPU: no-op)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
