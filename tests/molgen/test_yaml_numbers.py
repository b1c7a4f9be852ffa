"""Config files read ``1e-3`` as the number YAML 1.2 and users mean, not a string; written
configs read back unchanged."""

import math

import pytest
import yaml

from molgen.jko.config import load_config as load_jko_config
from molgen.training import load_config
from molgen.yaml_numbers import safe_dump, safe_load
from tests.molgen.training.tiny import tiny_config


@pytest.mark.parametrize(
    ("text", "value"),
    [("1e-3", 0.001), ("5E+2", 500.0), ("+1e2", 100.0), (".5", 0.5), ("1.0e-3", 0.001)],
)
def test_decimal_float_spellings_are_floats(text, value):
    assert safe_load(f"x: {text}") == {"x": value}


def test_other_scalars_keep_their_yaml_types():
    data = safe_load("a: 1\nb: 1_000\nc: '1e-3'\nd: 1e3x\ne: true\nf: -.inf\ng: .nan")
    assert data["a"] == 1 and isinstance(data["a"], int) and data["b"] == 1000
    assert data["c"] == "1e-3" and data["d"] == "1e3x" and data["e"] is True
    assert data["f"] == -math.inf and math.isnan(data["g"])


def test_a_training_config_takes_lr_1e_minus_2(tmp_path):
    import yaml

    text = yaml.safe_dump(tiny_config()).replace("lr: 0.01", "lr: 1e-2")
    assert "lr: 1e-2" in text
    (tmp_path / "train.yaml").write_text(text)
    assert load_config(tmp_path / "train.yaml").phases[0].lr == 0.01


def test_a_jko_config_takes_an_exponent_float(tmp_path):
    (tmp_path / "jko.yaml").write_text("preset: ou\ndim: 2\nflow: {learning_rate: 5e-3}\n")
    assert load_jko_config(tmp_path / "jko.yaml").flow.learning_rate == 0.005


@pytest.mark.parametrize("text", ["1e3", ".5", "-.inf", "1_0.5", "3", "true", "~"])
def test_dumped_strings_that_look_like_numbers_read_back_as_strings(text):
    data = {"key": text, "number": 1e-5}
    assert safe_load(safe_dump(data)) == data


@pytest.mark.parametrize(
    "text", ["system: a\nseed: 1\nsystem: b\n", "phase:\n  lr: 1\n  lr: 2\n", "{a: 1, a: 2}"]
)
def test_a_key_given_twice_is_refused_with_its_lines(text):
    # PyYAML keeps the last value silently: a config's first `system:` would be ignored
    with pytest.raises(yaml.YAMLError, match="given twice"):
        safe_load(text)
