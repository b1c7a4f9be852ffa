"""Small pieces of a run's state: its position, its resume fingerprint, stop requests."""

from __future__ import annotations

import json
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from molgen.training.config import TrainConfig
from molgen.training.config_loading import to_mapping

__all__ = ["Position", "StopRequest", "run_fingerprint"]


def run_fingerprint(config: TrainConfig) -> dict[str, Any]:
    """What must not change for a checkpoint to be resumed under ``config``: the set-up
    (system, flow, dtypes, seed) and each phase, as JSON strings."""
    setup = {
        "system": config.system,
        "flow": to_mapping(config.flow),
        "dtype": config.dtype,
        "energy_dtype": config.energy_dtype,
        "seed": config.seed,
        "init": config.init,
    }
    return {
        "setup": json.dumps(setup, sort_keys=True),
        "phases": [json.dumps(to_mapping(phase), sort_keys=True) for phase in config.phases],
    }


def setup_differences(
    payload: dict, config: TrainConfig, keys: tuple[str, ...] = ("system", "flow", "dtype")
) -> tuple[list[str], dict] | None:
    """The ``keys`` of the set-up in which a checkpoint ``payload`` differs from
    ``config``'s, and the checkpoint's set-up; ``None`` for a checkpoint without one."""
    saved = payload.get("fingerprint", {}).get("setup")
    if saved is None:
        return None
    saved, current = json.loads(saved), json.loads(run_fingerprint(config)["setup"])
    return [key for key in keys if saved.get(key) != current[key]], saved


@dataclass
class Position:
    """Where training stands: phase index, steps done in it and overall, skipped counts."""

    phase: int = 0
    phase_step: int = 0
    step: int = 0
    skipped: int = 0
    phase_skipped: int = 0


class StopRequest:
    """Set by SIGINT/SIGTERM while training or sampling (main thread only); a second
    signal raises :class:`KeyboardInterrupt` at once, for work that no longer polls
    :attr:`requested` (a reference run's statistics after its last iteration)."""

    def __init__(self):
        self.requested = False

    @contextmanager
    def installed(self):
        """Handle SIGINT/SIGTERM by setting :attr:`requested` (the first) or raising
        :class:`KeyboardInterrupt` (the next) while in this context."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum, frame):
            if self.requested:
                raise KeyboardInterrupt
            self.requested = True

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)
