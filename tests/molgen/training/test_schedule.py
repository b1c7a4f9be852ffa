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


def test_cosine_follows_half_a_cosine_from_one_to_the_final_factor():
    # 2 warmup steps, then 9 steps from factor 1 (step 2) to 0.2 (step 10): at step 2 + k
    # the factor is 0.2 + 0.8 (1 + cos(pi k / 8)) / 2, the midpoint (k = 4) half-way
    schedule = ScheduleConfig(kind="cosine", warmup_steps=2, final_factor=0.2)
    factors = [learning_rate_factor(schedule, step, 11) for step in range(11)]
    assert factors[:2] == [0.5, 1.0]
    assert factors[2] == 1.0
    assert factors[6] == pytest.approx(0.6, abs=1e-15)
    assert factors[4] == pytest.approx(0.2 + 0.8 * (2 + 2**0.5) / 4, abs=1e-15)


def test_exponential_multiplies_by_gamma_every_step_after_the_warmup():
    schedule = ScheduleConfig(kind="exponential", warmup_steps=1, gamma=0.5)
    factors = [learning_rate_factor(schedule, step, 5) for step in range(5)]
    assert factors == [1.0, 1.0, 0.5, 0.25, 0.125]


def test_constant_stays_at_one_after_the_warmup():
    schedule = ScheduleConfig(kind="constant", warmup_steps=4)
    factors = [learning_rate_factor(schedule, step, 6) for step in range(6)]
    assert factors == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
