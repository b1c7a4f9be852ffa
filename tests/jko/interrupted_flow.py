"""Stop an in-process ``molgen jko`` run with ``KeyboardInterrupt`` at a chosen JKO step."""

from pathlib import Path

import pytest

from molgen.jko.config import JKOConfig
from molgen.jko.flow import JKOFlow
from molgen.jko.run import run_experiment


def run_interrupted_at_step(
    config: JKOConfig, out: Path, monkeypatch: pytest.MonkeyPatch, step: int
) -> None:
    """Runs ``config`` into ``out`` and interrupts it as step ``step`` begins, so the
    checkpoint holds steps ``1 … step - 1``; ``JKOFlow.step`` is restored afterwards."""
    original_step = JKOFlow.step
    calls = []

    def interrupted_step(flow, *args, **kwargs):
        calls.append(None)
        if len(calls) == step:
            raise KeyboardInterrupt
        return original_step(flow, *args, **kwargs)

    monkeypatch.setattr(JKOFlow, "step", interrupted_step)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(config, out, progress=False)
    monkeypatch.undo()
