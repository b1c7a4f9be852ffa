"""Training of generators: configs, the trainer, checkpoints, metrics and DDP helpers.

``train(load_config(path), run_dir)`` runs the phases of a config (see
:mod:`molgen.training.config`) and writes the run directory: ``config.yaml``,
``checkpoints/`` (``step_*.pt``, ``end_<phase>.pt``, ``final.pt``), ``metrics.jsonl``,
``plots/``.
"""

from molgen.training.branch import branch_run
from molgen.training.checkpoints import CheckpointError, latest_checkpoint, load_checkpoint
from molgen.training.config import (
    CheckpointConfig,
    DataConfig,
    FlowConfig,
    MetricsConfig,
    PhaseConfig,
    ScheduleConfig,
    TrainConfig,
    config_from_mapping,
    config_to_mapping,
    load_config,
)
from molgen.training.distributed import (
    Processes,
    joined_process_group,
    leave_process_group,
    process_group_from_environment,
)
from molgen.training.metrics import MetricsLog, kish_ess_fraction, sample_statistics
from molgen.training.model import build_flow
from molgen.training.target import ReducedEnergy
from molgen.training.trainer import TrainingInterrupted, TrainResult, train

__all__ = [
    "CheckpointConfig",
    "CheckpointError",
    "DataConfig",
    "FlowConfig",
    "MetricsConfig",
    "MetricsLog",
    "PhaseConfig",
    "Processes",
    "ReducedEnergy",
    "ScheduleConfig",
    "TrainConfig",
    "TrainResult",
    "TrainingInterrupted",
    "branch_run",
    "build_flow",
    "config_from_mapping",
    "config_to_mapping",
    "joined_process_group",
    "kish_ess_fraction",
    "latest_checkpoint",
    "leave_process_group",
    "load_checkpoint",
    "load_config",
    "process_group_from_environment",
    "sample_statistics",
    "train",
]
