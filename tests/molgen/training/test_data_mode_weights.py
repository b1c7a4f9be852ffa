"""``data.mode_weights``: a rare mode's data points repeated for training."""

from __future__ import annotations

import pytest
import torch

import systems
from forcefields.errors import ConfigError
from molgen.training import config_from_mapping
from molgen.training.config import DataConfig
from molgen.training.data import load_data
from molgen.training.target import mode_labels
from tests.molgen.training.tiny import tiny_config


def test_each_point_of_a_weighted_mode_is_repeated():
    system = systems.load("double_well_2d")
    plain = load_data(system, DataConfig(size=2000), 1.0, seed=3)
    weighted = load_data(system, DataConfig(size=2000, mode_weights={"minor": 3}), 1.0, seed=3)
    minor = mode_labels(system, plain) == 1
    assert 0 < int(minor.sum()) < len(plain)  # both modes present in the unweighted draw
    assert len(weighted) == len(plain) + 2 * int(minor.sum())
    # the same points, the minor ones three times each
    expected = torch.cat([plain[~minor], plain[minor].repeat(3, 1)])
    key = lambda points: points[torch.argsort(points[:, 0])]  # noqa: E731
    torch.testing.assert_close(key(weighted), key(expected), rtol=0, atol=0)


def test_unknown_mode_is_named_with_the_known_ones():
    system = systems.load("double_well_2d")
    with pytest.raises(ConfigError, match=r"unknown mode\(s\) C7ax \(modes: major, minor\)"):
        load_data(system, DataConfig(size=10, mode_weights={"C7ax": 2}), 1.0, seed=0)


@pytest.mark.parametrize("count", [0, 2.5, True, "3"])
def test_weights_must_be_positive_integers(count):

    mapping = tiny_config()
    mapping["phases"][0]["data"] = {
        "source": "exact",
        "size": 100,
        "mode_weights": {"minor": count},
    }
    with pytest.raises(ConfigError, match="mode_weights.minor"):
        config_from_mapping(mapping)
