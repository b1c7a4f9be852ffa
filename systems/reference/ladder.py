"""Temperature ladders for parallel tempering."""

from __future__ import annotations

import numpy as np

from forcefields.errors import ConfigError

__all__ = ["geometric_ladder"]


def geometric_ladder(temperature: float, max_temperature: float, n_replicas: int) -> np.ndarray:
    """``n_replicas`` temperatures from ``temperature`` to ``max_temperature``, equal ratios.

    A geometric ladder gives roughly equal swap acceptance between neighbours when the heat
    capacity does not change much over the range. One replica gives ``[temperature]``.

    Raises:
        ConfigError: a temperature that is not finite and positive, fewer than one
            replica, or a maximum below the target (or equal to it, or infinite, with
            several replicas).
    """
    if not (np.isfinite(temperature) and temperature > 0):
        raise ConfigError(f"temperature: must be positive and finite, got {temperature}")
    if n_replicas < 1:
        raise ConfigError(f"replicas: need at least one, got {n_replicas}")
    if n_replicas == 1:
        return np.array([float(temperature)])
    if not max_temperature > temperature:
        raise ConfigError(
            f"tmax: must exceed the temperature {temperature} with {n_replicas} replicas, "
            f"got {max_temperature}"
        )
    if not np.isfinite(max_temperature):
        raise ConfigError(f"tmax: must be finite, got {max_temperature}")
    return np.geomspace(temperature, max_temperature, n_replicas)
