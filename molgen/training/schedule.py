"""Learning-rate schedules within a phase, as multiplicative factors on the base rate."""

from __future__ import annotations

import math

import torch

from molgen.training.config import ScheduleConfig

__all__ = ["learning_rate_factor", "make_scheduler"]


def learning_rate_factor(schedule: ScheduleConfig, step: int, total_steps: int) -> float:
    """Factor on ``lr`` at 0-based ``step`` of a phase of ``total_steps`` steps."""
    if step < schedule.warmup_steps:
        return (step + 1) / schedule.warmup_steps
    elapsed = step - schedule.warmup_steps
    span = max(total_steps - schedule.warmup_steps - 1, 1)
    if schedule.kind == "cosine":
        progress = min(elapsed / span, 1.0)
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return schedule.final_factor + (1.0 - schedule.final_factor) * cosine
    if schedule.kind == "exponential":
        return schedule.gamma**elapsed
    return 1.0


def make_scheduler(
    optimizer: torch.optim.Optimizer, schedule: ScheduleConfig, total_steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` stepping once per training step (its state is plain numbers)."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: learning_rate_factor(schedule, step, total_steps)
    )
