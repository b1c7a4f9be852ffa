"""Session-wide test settings.

One torch thread per test process: the suite's batches are small, and on the 2-core CI
machine a second thread competing with other work slows them many-fold.

Tests marked ``slow`` (registered in ``setup.cfg``) run only when ``-m`` selects them
(``-m slow``); any other selection, or none, skips them, whichever folders are collected.
"""

import pytest
import torch

torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    selection = config.getoption("-m") or ""
    if "slow" in selection and "not slow" not in selection:
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
