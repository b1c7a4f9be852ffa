"""Learning-rate schedules within a phase, as multiplicative factors on the base rate."""

from __future__ import annotations

import math

import torch

from molgen.training.config import ScheduleConfig

__all__ = ["learning_rate_factor", "make_scheduler"]


def learning_rate_factor(schedule: ScheduleConfig, step: int, total_steps: int) -> float:
    """Factor on ``lr`` at 0-based ``step`` of a phase of ``total_steps`` steps.

    A linear warmup to 1 over ``warmup_steps``; then ``cosine`` decays to
    ``final_factor`` at the phase's last step (reached even when a single step follows
    the warmup), ``exponential`` multiplies by ``gamma`` per step.
    """
    if step < schedule.warmup_steps:
        return (step + 1) / schedule.warmup_steps
    elapsed = step - schedule.warmup_steps
    span = total_steps - schedule.warmup_steps - 1
    if schedule.kind == "cosine":
        progress = 1.0 if span <= 0 else min(elapsed / span, 1.0)
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
