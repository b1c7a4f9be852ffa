"""Start a run from the end of a phase of another run with the same earlier phases.

Several fine-tunings can share one pre-training: each branch copies the source run's
``end_<phase>.pt`` checkpoint and its metrics up to that step, then ``train(...,
resume=True)`` continues with the branch's own later phases, exactly as if it had run
the shared phases itself (the checkpoint's fingerprint check enforces that they match).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from forcefields.atomic_files import atomic_path, write_text_atomic
from forcefields.errors import InputFileError
from molgen.training.checkpoints import (
    load_checkpoint,
    periodic_checkpoint_path,
    phase_checkpoint_path,
)
from molgen.training.config import TrainConfig, config_to_mapping
from molgen.training.metrics import MetricsLog
from molgen.yaml_numbers import safe_dump

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
    # every file atomically, the checkpoint that resume starts from last: a branch killed
    # part way never holds a half-copied checkpoint nor one without its metrics
    lines = [
        json.dumps(record)
        for record in MetricsLog(source_run / "metrics.jsonl").read()
        if record["step"] <= step
    ]
    write_text_atomic(run_dir / "metrics.jsonl", "".join(line + "\n" for line in lines))
    write_text_atomic(run_dir / "config.yaml", safe_dump(config_to_mapping(config)))
    target = periodic_checkpoint_path(run_dir / "checkpoints", step)
    for copy in (phase_checkpoint_path(run_dir / "checkpoints", phase_name), target):
        with atomic_path(copy) as temporary:
            shutil.copyfile(source, temporary)
    return target
