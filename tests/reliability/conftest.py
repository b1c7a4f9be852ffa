"""Reliability-suite plumbing: the bad-input tally in the terminal summary, and its check last."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability import bad_inputs

COUNT_TEST = "test_at_least_200_distinct_bad_inputs_were_tried"


RECORDING_MODULES = (
    "test_charmm_corpus.py",
    "test_charmm_properties.py",
    "test_configs.py",
    "test_coordinates.py",
    "test_names.py",
    "test_untrusted_files.py",
)
"""The modules whose tests record bad inputs in :mod:`tests.reliability.bad_inputs`."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the tally check after every other test; skip it, saying why, when the session
    does not run every recording test (a single file, a ``-k`` selection): the tally
    would then count only part of the suite."""
    missing = [name for name in RECORDING_MODULES if not (Path(__file__).parent / name).is_file()]
    if missing:
        raise pytest.UsageError(f"tests/reliability/conftest.py: no module {missing}")
    last = [item for item in items if item.name == COUNT_TEST]
    items[:] = [item for item in items if item.name != COUNT_TEST] + last
    collected = {Path(item.fspath).name for item in items}
    partial = config.getoption("keyword") or not set(RECORDING_MODULES) <= collected
    for item in last:
        if partial:
            item.add_marker(
                pytest.mark.skip(reason="tallies the whole tests/reliability suite; run it all")
            )


def pytest_terminal_summary(terminalreporter) -> None:
    """Print ``bad inputs tried: N`` when the reliability suite ran."""
    if bad_inputs.count():
        terminalreporter.write_line(f"bad inputs tried: {bad_inputs.count()}")
