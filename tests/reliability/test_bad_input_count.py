"""The suite tried at least 200 distinct bad inputs (run last; see ``conftest.py``)."""

from tests.reliability import bad_inputs


def test_at_least_200_distinct_bad_inputs_were_tried():
    assert bad_inputs.count() >= bad_inputs.MINIMUM_DISTINCT_BAD_INPUTS, (
        f"only {bad_inputs.count()} distinct bad inputs were tried; run the whole "
        "tests/reliability suite"
    )
