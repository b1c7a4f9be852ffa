"""Start a run from the end of a phase of another run with the same earlier phases.

Several fine-tunings can share one pre-training: each branch copies the source run's
``end_<phase>.pt`` checkpoint and its metrics up to that step, then ``train(...,
resume=True)`` continues with the branch's own later phases, exactly as if it had run
the shared phases itself (the checkpoint's fingerprint check enforces that they match).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from forcefields.errors import InputFileError
from molgen.training.checkpoints import (
    load_checkpoint,
    periodic_checkpoint_path,
    phase_checkpoint_path,
)
from molgen.training.config import TrainConfig, config_to_mapping
from molgen.training.metrics import MetricsLog

__all__ = ["branch_run"]


def branch_run(
    source_run: str | Path, phase_name: str, config: TrainConfig, run_dir: str | Path
) -> Path:
    """Prepare ``run_dir`` to resume from ``source_run``'s end of phase ``phase_name``.

    Returns the copied checkpoint. Raises :class:`InputFileError` if the source lacks that
    checkpoint or ``run_dir`` already holds a run.
    """
    source_run, run_dir = Path(source_run), Path(run_dir)
    source = phase_checkpoint_path(source_run / "checkpoints", phase_name)
    if not source.is_file():
        raise InputFileError(f"{source}: no end-of-phase checkpoint for {phase_name!r}")
    if (run_dir / "checkpoints").exists() or (run_dir / "metrics.jsonl").exists():
        raise InputFileError(f"{run_dir}: already holds a run")
    step = load_checkpoint(source)["step"]
    (run_dir / "checkpoints").mkdir(parents=True)
    target = periodic_checkpoint_path(run_dir / "checkpoints", step)
    shutil.copyfile(source, target)
    shutil.copyfile(source, phase_checkpoint_path(run_dir / "checkpoints", phase_name))
    metrics = MetricsLog(run_dir / "metrics.jsonl")
    for record in MetricsLog(source_run / "metrics.jsonl").read():
        if record["step"] <= step:
            metrics.append(record)
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config_to_mapping(config), sort_keys=False))
    return target
