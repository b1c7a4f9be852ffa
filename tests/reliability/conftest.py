"""Reliability-suite plumbing: the bad-input tally in the terminal summary, and its check last."""

from __future__ import annotations

import pytest

from tests.reliability import bad_inputs

COUNT_TEST = "test_at_least_200_distinct_bad_inputs_were_tried"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tally check after every other test."""
    last = [item for item in items if item.name == COUNT_TEST]
    items[:] = [item for item in items if item.name != COUNT_TEST] + last


def pytest_terminal_summary(terminalreporter) -> None:
    """Print ``bad inputs tried: N`` when the reliability suite ran."""
    if bad_inputs.count():
        terminalreporter.write_line(f"bad inputs tried: {bad_inputs.count()}")
