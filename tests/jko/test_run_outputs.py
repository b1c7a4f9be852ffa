"""What a JKO run leaves behind: strict-JSON metrics, warnings of unreliable densities,
no clobbered folders, plots that show the oracle's modes; and the numerical edge cases
that used to end in a traceback."""

from __future__ import annotations

import json
import math
import warnings
from types import SimpleNamespace

import pytest
import torch

from cli.main import main
from molgen.jko.inversion import NonInvertibleMapError, invert_gradient_map
from molgen.jko.plots import _with_reference_mass
from molgen.jko.porous_oracles import Barenblatt
from molgen.jko.run import _evaluate_noting_warnings


def _strict_json(text: str):
    def refuse(constant: str):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def test_an_infinite_symkl_is_null_in_strict_json_and_listed(tmp_path, capsys):
    # One JKO step of a barely trained flow leaves samples beyond the double well's
    # quadrature grid, where the reference density is 0: SymKL is +inf by definition.
    config = tmp_path / "config.yaml"
    config.write_text(
        "preset: double_well\ndim: 1\nflow: {steps: 1, iterations: 2, cloud_size: 64}\n"
        "evaluation_samples: 50\n"
    )
    out = tmp_path / "run"
    assert main(["jko", str(config), "--quiet", "--out", str(out)]) == 0
    metrics = _strict_json((out / "metrics.json").read_text())
    assert metrics["non_finite"] == {"metrics/0.05/symkl": "inf", "symkl/0.05": "inf"}
    assert metrics["symkl"]["0.05"] is None
    assert metrics["metrics"]["0.05"]["symkl"] is None
    printed = _strict_json(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["symkl"] == {"0.05": None}
    assert printed["non_finite"] == {"symkl/0.05": "inf"}


def test_a_diverged_fit_leaves_strict_json_lines_naming_the_non_finite_values(tmp_path):
    # A learning rate of 1e30 makes every restart's fit overflow; the flow records those
    # restarts' objectives as +inf and the final loss as NaN.
    config = tmp_path / "config.yaml"
    config.write_text(
        "preset: double_well\ndim: 1\nevaluation_samples: 50\n"
        "flow: {steps: 1, iterations: 5, cloud_size: 64, restarts: 2, learning_rate: 1.0e+30}\n"
    )
    out = tmp_path / "run"
    main(["jko", str(config), "--quiet", "--out", str(out)])
    lines = [_strict_json(line) for line in (out / "steps.jsonl").read_text().splitlines()]
    assert len(lines) == 1
    assert lines[0]["non_finite"], lines[0]
    for path, value in lines[0]["non_finite"].items():
        assert value in {"nan", "inf", "-inf"}
        entry = lines[0]
        for key in path.split("/"):
            entry = entry[int(key)] if isinstance(entry, list) else entry[key]
        assert entry is None


def test_a_folder_of_other_files_is_not_written_into(tmp_path, capsys):
    out = tmp_path / "other"
    out.mkdir()
    (out / "metrics.json").write_text('{"important": 1}')
    command = ["jko", "--quiet", "--preset", "ou", "--dim", "2", "--steps", "1"]
    assert main([*command, "--iterations", "2", "--out", str(out)]) == 2
    assert "not a molgen jko run" in capsys.readouterr().err
    assert (out / "metrics.json").read_text() == '{"important": 1}'
    assert sorted(path.name for path in out.iterdir()) == ["metrics.json"]


def test_a_singular_hessian_is_a_typed_error_not_a_linalg_traceback():
    def flat_along_one_direction(x):
        return (x[:, 0] + x[:, 1]).square()

    with pytest.raises(NonInvertibleMapError, match="strong_convexity"):
        invert_gradient_map(flat_along_one_direction, torch.randn(4, 2))


def test_warnings_of_an_evaluation_are_kept_in_its_metrics():
    def evaluate(flow, samples):
        warnings.warn("invert_gradient_map: not converged", RuntimeWarning, stacklevel=1)
        warnings.warn("invert_gradient_map: not converged", RuntimeWarning, stacklevel=1)
        return {"symkl": 1.0e10}

    problem = SimpleNamespace(evaluate=evaluate)
    with pytest.warns(RuntimeWarning, match="not converged"):
        metrics = _evaluate_noting_warnings(problem, None, 10)
    assert metrics == {"symkl": 1.0e10, "warnings": ["invert_gradient_map: not converged"]}


def test_an_exponent_just_above_one_has_a_unit_mass_profile():
    # 1 / (m - 1) = 1e4: the gamma functions of the mass constant overflow a float.
    profile = Barenblatt(dim=1, exponent=1.0001, time_offset=0.05)
    radius = profile.radius(0.0)
    grid = torch.linspace(-radius, radius, 200_001, dtype=torch.float64)
    mass = torch.trapezoid(profile.density(grid[:, None], 0.0), grid).item()
    # trapezoid error on a smooth bump sampled 2e5 times: far below 1e-4
    assert math.isclose(mass, 1.0, rel_tol=1e-4)


def test_the_plot_range_takes_in_a_mode_the_samples_miss():
    def two_modes(time, grid):
        return 0.75 * torch.exp(-0.5 * ((grid + 1.4) / 0.3) ** 2) + 0.25 * torch.exp(
            -0.5 * ((grid - 1.4) / 0.3) ** 2
        )

    low, high = _with_reference_mass(two_modes, 0.0, -2.0, -0.5)
    # The density exceeds 1e-3 of its peak 0.75 where 0.75 exp(-z^2/2) > 7.5e-4 about
    # -1.4 (|z| < 3.72) and 0.25 exp(-z^2/2) > 7.5e-4 about +1.4 (|z| < 3.41); the probe
    # grid's spacing is 0.015.
    assert math.isclose(low, -1.4 - 0.3 * 3.717, abs_tol=0.02)
    assert math.isclose(high, 1.4 + 0.3 * 3.409, abs_tol=0.02)


def test_an_out_that_is_a_file_is_named_as_such(tmp_path, capsys):
    out = tmp_path / "afile"
    out.write_text("mine")
    command = ["jko", "--quiet", "--preset", "ou", "--dim", "2", "--steps", "1"]
    assert main([*command, "--iterations", "2", "--out", str(out)]) == 2
    assert f"{out}: a file, not a folder for the run" in capsys.readouterr().err
    assert out.read_text() == "mine"


def test_evaluation_steps_are_generated_not_listed():
    from molgen.jko.config import config_from_dict
    from molgen.jko.run import _evaluation_steps, _is_evaluated

    config = config_from_dict({"evaluate_every": 3, "flow": {"steps": 10}})
    assert list(_evaluation_steps(config)) == [3, 6, 9, 10]
    assert [step for step in range(1, 11) if _is_evaluated(step, config)] == [3, 6, 9, 10]
    huge = config_from_dict({"evaluate_every": 1, "flow": {"steps": 10**21}})
    steps = _evaluation_steps(huge)  # a set of 10^21 steps used to exhaust the memory
    assert [next(steps), next(steps)] == [1, 2]
