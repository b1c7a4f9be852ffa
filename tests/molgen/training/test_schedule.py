"""Learning-rate factors of the phase schedules."""

from __future__ import annotations

import pytest

from molgen.training.config import ScheduleConfig
from molgen.training.schedule import learning_rate_factor


@pytest.mark.parametrize("warmup", [0, 5, 8, 9])
def test_cosine_ends_at_its_final_factor_on_the_last_step(warmup):
    schedule = ScheduleConfig(kind="cosine", warmup_steps=warmup, final_factor=0.1)
    factors = [learning_rate_factor(schedule, step, 10) for step in range(10)]
    assert factors[-1] == pytest.approx(0.1, abs=1e-15)
    if warmup:
        assert factors[warmup - 1] == 1.0
    # never below the final factor, never above 1
    assert all(0.1 - 1e-15 <= factor <= 1.0 for factor in factors[warmup:])
