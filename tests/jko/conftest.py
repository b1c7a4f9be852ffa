"""Registers the ``slow`` marker; slow tests run only when selected with ``-m slow``."""

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long acceptance runs, selected with -m slow")


def pytest_collection_modifyitems(config, items):
    if "slow" in (config.getoption("-m") or "") and "not slow" not in config.getoption("-m"):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
