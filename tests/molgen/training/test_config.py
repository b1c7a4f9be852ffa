"""Config validation: every bad value is a ConfigError naming its field."""

from __future__ import annotations

import pytest

from forcefields.errors import ConfigError, InputFileError
from molgen.training import config_from_mapping, config_to_mapping, load_config
from tests.molgen.training.tiny import tiny_config


def test_tiny_config_round_trips_through_plain_data():
    config = config_from_mapping(tiny_config())
    assert config_from_mapping(config_to_mapping(config)) == config
    assert config.phases[1].schedule.kind == "cosine"
    assert config.phases[0].data.size == 512


def _with_phase(index: int, **values) -> dict:
    config = tiny_config()
    config["phases"][index].update(values)
    return config


@pytest.mark.parametrize(
    ("mapping", "field"),
    [
        (_with_phase(1, steps=-3), "phases[1].steps"),
        (_with_phase(0, batch_size=0), "phases[0].batch_size"),
        (_with_phase(1, steps="ten"), "phases[1].steps"),
        (_with_phase(1, steps=True), "phases[1].steps"),
        (_with_phase(0, lr=-1e-4), "phases[0].lr"),
        (_with_phase(0, temperature_factor=0.0), "phases[0].temperature_factor"),
        (_with_phase(1, bogus=1), "phases[1].bogus"),
        (_with_phase(1, losses={"no_such_loss": 1.0}), "phases[1].losses.no_such_loss"),
        (_with_phase(1, losses={"kl_x": -1.0}), "phases[1].losses.kl_x"),
        (_with_phase(1, losses={"kl_z_dd": 1.0}, loss_options={}), "phases[1].data"),
        (_with_phase(1, loss_options={"kl_z_df": {}}), "phases[1].loss_options.kl_z_df"),
        (_with_phase(1, schedule={"kind": "sawtooth"}), "phases[1].schedule.kind"),
        (_with_phase(0, data={"source": "exact", "size": -1}), "phases[0].data.size"),
        (_with_phase(0, data={"source": "file"}), "phases[0].data.path"),
        (_with_phase(1, name="pretrain"), "phases[1].name"),
        (tiny_config(flow={"preset": "glow"}), "flow.preset"),
        (tiny_config(metrics={"every": 0}), "metrics.every"),
        (tiny_config(seed=-1), "seed"),
        (tiny_config(dtype="float16"), "dtype"),
        (tiny_config(extra=1), "extra"),
        (tiny_config(phases=[]), "phases"),
        (tiny_config(phases={"name": "x"}), "phases"),
    ],
)
def test_bad_values_name_their_field(mapping, field):
    with pytest.raises(ConfigError) as error:
        config_from_mapping(mapping)
    assert str(error.value).startswith(f"{field}:")


def test_missing_required_key_is_named():
    config = tiny_config()
    del config["phases"][0]["steps"]
    with pytest.raises(ConfigError, match=r"^phases\[0\]\.steps: required"):
        config_from_mapping(config)


def test_integers_are_accepted_for_floats():
    config = config_from_mapping(_with_phase(0, lr=1))
    assert config.phases[0].lr == 1.0 and isinstance(config.phases[0].lr, float)


def test_yaml_file_errors_name_the_file(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("system: [unclosed\n")
    with pytest.raises(InputFileError, match="broken.yaml"):
        load_config(broken)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        "system: double_well_wide\nphases: [{name: a, steps: -1, losses: {kl_x: 1}}]\n"
    )
    with pytest.raises(ConfigError, match=r"wrong.yaml: phases\[0\]\.steps"):
        load_config(wrong)
    with pytest.raises(InputFileError, match="not found"):
        load_config(tmp_path / "absent.yaml")


def test_relative_data_paths_resolve_against_the_config_file(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "run.yaml"
    path.write_text(
        "system: double_well_wide\nphases:\n"
        "  - {name: a, steps: 1, losses: {kl_z_dd: 1}, data: {source: file, path: data.npz}}\n"
    )
    assert load_config(path).phases[0].data.path == str(tmp_path / "sub" / "data.npz")
