"""Strict YAML configuration: unknown keys, wrong types and negative sizes name the field."""

import math

import pytest
import torch
import yaml

from molgen.jko.config import JKOConfigError, config_from_dict, load_config


def test_defaults_and_nested_values():
    config = config_from_dict({"preset": "porous", "dim": 1, "flow": {"steps": 3, "step_size": 1}})
    assert (config.preset, config.dim, config.flow.steps, config.flow.step_size) == (
        "porous",
        1,
        3,
        1.0,
    )
    assert config.network.hidden == [64, 64]


@pytest.mark.parametrize(
    "data, field",
    [
        ({"flow": {"stepz": 3}}, "flow.stepz"),
        ({"dim": "two"}, "dim"),
        ({"dim": 2.5}, "dim"),
        ({"flow": {"cloud_size": -5}}, "flow.cloud_size"),
        ({"flow": {"step_size": 0}}, "flow.step_size"),
        ({"network": {"hidden": [64, -1]}}, "network.hidden"),
        ({"network": {"quadratic_residual": "yes"}}, "network.quadratic_residual"),
        ({"preset": "butan"}, "preset"),
        ({"logdet": 3}, "logdet"),
        ({"logdet": {"dual_hidden": []}}, "logdet.dual_hidden"),
        ({"logdet": {"dual_steps": 0}}, "logdet.dual_steps"),
        ({"flow": {"restarts": 0}}, "flow.restarts"),
        ({"flow": {"restarts": 1.5}}, "flow.restarts"),
        ({"flow": {"affine_lr_scale": 0}}, "flow.affine_lr_scale"),
        ({"flow": {"restarts": 2}, "logdet": {"backend": "variational"}}, "flow.restarts"),
        (
            {"flow": {"affine_lr_scale": 0.1}, "network": {"quadratic_residual": False}},
            "flow.affine_lr_scale",
        ),
        ({"flow": {"restart_tolerance": 0.01}}, "flow.restart_tolerance"),
        ({"flow": {"restart_tolerance": -0.01, "restarts": 2}}, "flow.restart_tolerance"),
        ({"flow": {"late_learning_rate": 2e-3}}, "flow.late_learning_rate"),
        ({"flow": {"late_from_step": 21}}, "flow.late_learning_rate"),
        ({"flow": {"late_learning_rate": -2e-3, "late_from_step": 21}}, "flow.late_learning_rate"),
        ({"flow": {"late_learning_rate": 2e-3, "late_from_step": 19}}, "flow.late_from_step"),
        ({"flow": {"iterations": 0}}, "flow.iterations"),
        ({"flow": {"batch_size": 1}}, "flow.batch_size"),
        ({"flow": {"batch_size": 0, "cloud_size": 1}}, "flow.batch_size, flow.cloud_size"),
        ({"flow": {"step_size": math.nan}}, "flow.step_size"),
        ({"flow": {"learning_rate": math.inf}}, "flow.learning_rate"),
        ({"network": {"strong_convexity": math.nan}}, "network.strong_convexity"),
        ({"network": {"strong_convexity": 0}}, "network.strong_convexity"),
        ({"preset": "porous", "dim": 1, "baseline": {"particles": 100}}, "baseline.particles"),
        ({"preset": "aggregation", "dim": 2, "baseline": {"particles": 100}}, "baseline.particles"),
        ({"flow": {"restarts": 2, "restart_tolerance": math.nan}}, "flow.restart_tolerance"),
        ({"problem": {"width": math.inf}}, "problem.width"),
        ({"preset": "porous", "dim": 1, "problem": {"exponent": 1}}, "problem.exponent"),
        ({"preset": "porous", "dim": 1, "problem": {"exponent": 0.5}}, "problem.exponent"),
        ({"preset": "ou", "problem": {"reference": "runs/reference"}}, "problem.reference"),
    ],
)
def test_bad_values_name_the_field(data, field):
    with pytest.raises(JKOConfigError, match=rf"^{field.replace('[', '.')}"):
        config_from_dict(data)


def test_yaml_nan_and_infinity_are_refused(tmp_path):
    path = tmp_path / "config.yaml"
    for text, field in (
        ("flow: {step_size: .nan}", "flow.step_size"),
        ("flow: {learning_rate: .inf}", "flow.learning_rate"),
        ("problem: {temperature: -.inf}", "problem.temperature"),
    ):
        path.write_text(text)
        with pytest.raises(JKOConfigError, match=rf"^{field}: must be finite"):
            load_config(path)


def test_late_learning_rate_may_start_at_the_last_step():
    flow = config_from_dict(
        {"flow": {"steps": 4, "late_learning_rate": 2e-3, "late_from_step": 4}}
    ).flow
    assert flow.learning_rate_at(4) == 2e-3


def test_late_learning_rate_starts_at_its_step():
    flow = config_from_dict(
        {
            "flow": {
                "steps": 40,
                "learning_rate": 5e-3,
                "late_learning_rate": 2e-3,
                "late_from_step": 21,
            }
        }
    ).flow
    assert [flow.learning_rate_at(step) for step in (1, 20, 21, 40)] == [5e-3, 5e-3, 2e-3, 2e-3]
    assert config_from_dict({}).flow.learning_rate_at(40) == config_from_dict({}).flow.learning_rate


def test_every_shipped_config_loads(tmp_path):
    from pathlib import Path

    configs = sorted((Path(__file__).parents[2] / "configs" / "jko").glob("*.yaml"))
    assert len(configs) >= 6
    for path in configs:
        data = yaml.safe_load(path.read_text())
        if data.get("device", "cpu") != "cpu" and not torch.cuda.is_available():
            # A GPU config is checked in full with the device this machine has.
            data["device"] = "cpu"
        config_from_dict(data)
    broken = tmp_path / "broken.yaml"
    broken.write_text("preset: [unclosed\n")
    with pytest.raises(JKOConfigError, match="broken.yaml"):
        load_config(broken)


@pytest.mark.parametrize("content", ["[]\n", "false\n", "0\n"])
def test_a_yaml_document_that_is_not_a_mapping_is_refused(tmp_path, content):
    # an empty list or false used to be read as an empty mapping: the default OU run
    path = tmp_path / "c.yaml"
    path.write_text(content)
    with pytest.raises(JKOConfigError, match="config: expected a mapping"):
        load_config(path)


@pytest.mark.parametrize("content", ["", "# only a comment\n"])
def test_a_config_without_settings_is_refused(tmp_path, content):
    # used to run every default (the OU preset) and exit 0
    path = tmp_path / "empty.yaml"
    path.write_text(content)
    with pytest.raises(JKOConfigError, match=r"empty.yaml: holds no settings"):
        load_config(path)


def test_a_section_that_is_not_a_mapping_is_named_without_a_trailing_dot():
    with pytest.raises(JKOConfigError, match=r"^flow: expected a mapping, got int"):
        config_from_dict({"flow": 3})


def test_an_integer_beyond_float_range_is_refused_by_name():
    # used to be an OverflowError traceback
    with pytest.raises(JKOConfigError, match="flow.step_size: must be finite"):
        config_from_dict({"flow": {"step_size": 10**400}})


@pytest.mark.parametrize(
    "preset, dim, problem",
    [
        ("mixture", 2, {"temperature": 2.0}),
        ("porous", 1, {"temperature": 0.5}),
        ("aggregation", 1, {"initial_std": 2.0}),
        ("ou", 2, {"gaussian_std": 2.0}),
        ("double_well", 2, {"exponent": 3.0}),
        ("butane", 42, {"components": 4}),
    ],
)
def test_problem_fields_a_preset_ignores_are_refused(preset, dim, problem):
    (name,) = problem
    with pytest.raises(JKOConfigError, match=rf"^problem.{name}: the {preset} preset does not"):
        config_from_dict({"preset": preset, "dim": dim, "problem": problem})


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"evaluation_samples": 3}, "evaluation_samples"),
        ({"baseline": {"particles": 3}}, "baseline.particles"),
    ],
)
def test_sample_counts_too_small_for_a_covariance_are_refused(changes, field):
    with pytest.raises(JKOConfigError, match=rf"^{field}: needs .*dim \+ 1 = 4"):
        config_from_dict({"preset": "ou", "dim": 3, **changes})
    config_from_dict({"preset": "ou", "dim": 2, **changes})
    # the double well's baseline and evaluation count mode fractions, no covariance
    config_from_dict({"preset": "double_well", "dim": 3, **changes})
