"""Loss registry: every thesis loss by name, typed errors for bad names and options."""

from __future__ import annotations

import pytest

from forcefields.errors import ConfigError, UnknownNameError
from molgen import losses
from molgen.losses import LOSSES, UnderSampledCache, get_loss

THESIS_NAMES = [
    "kl_x",
    "kl_z_dd",
    "kl_z_df",
    "kl_x_reweighted",
    "renyi_half",
    "pl2_gg",
    "pl2_bb",
    "pl2_gb",
    "pl2_cb",
    "l2_plus",
    "sinkhorn_dd",
    "sinkhorn_df",
]


def test_every_thesis_loss_is_registered_and_importable():
    # hydrogen_kl and hydrogen_energy train a molecular generator's hydrogen stage
    # (thesis §3.3, §9.2).
    assert sorted(LOSSES) == sorted([*THESIS_NAMES, "hydrogen_kl", "hydrogen_energy"])
    for name in THESIS_NAMES:
        assert getattr(losses, name) is LOSSES[name]
        assert "eq" in LOSSES[name].__doc__.lower()


def test_unknown_name_is_a_typed_error():
    with pytest.raises(UnknownNameError, match="kl_y"):
        get_loss("kl_y")


def test_unknown_and_missing_options_are_config_errors():
    with pytest.raises(ConfigError, match="temprature"):
        get_loss("kl_z_df", temprature=2.0)
    with pytest.raises(ConfigError, match="cache"):
        get_loss("pl2_cb")
    assert get_loss("pl2_cb", cache=UnderSampledCache()).keywords["cache"] is not None
