"""``molgen jko`` run folders: another configuration's folder is refused before anything is
written, a run killed before its first checkpoint resumes, stale temporaries are removed;
flag errors name the flag; out-of-range seeds and diverged samples give no traceback."""

import json

import torch
import yaml

from cli.main import main
from molgen.jko.config import config_from_dict, config_to_dict
from molgen.jko.plots import plot_marginals
from molgen.jko.run import run_experiment
from tests.jko.interrupted_flow import run_interrupted_at_step

TINY = {
    "preset": "porous",
    "dim": 1,
    "seed": 4,
    "evaluate_every": 2,
    "evaluation_samples": 200,
    "network": {"hidden": [4]},
    "flow": {"step_size": 0.01, "steps": 3, "iterations": 4, "batch_size": 64, "cloud_size": 128},
}


def write_config(tmp_path, name="tiny.yaml", **changes):
    path = tmp_path / name
    path.write_text(json.dumps({**TINY, **changes}))  # JSON is YAML
    return path


def saved_seed(out):
    return yaml.safe_load((out / "config.yaml").read_text())["seed"]


def outputs(out):
    return json.loads((out / "metrics.json").read_text())["metrics"], (
        out / "steps.jsonl"
    ).read_text()


def test_refused_resume_leaves_the_folder_untouched(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["jko", str(write_config(tmp_path)), "--out", str(out), "--quiet"]) == 0
    other = write_config(tmp_path, "other.yaml", seed=5)
    assert main(["jko", str(other), "--out", str(out), "--quiet", "--resume"]) == 2
    assert "seed" in capsys.readouterr().err
    assert saved_seed(out) == 4  # was overwritten with 5 before the checkpoint was checked


def test_folder_of_another_configuration_is_refused(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    run_interrupted_at_step(config_from_dict(TINY), out, monkeypatch, step=1)
    assert not (out / "checkpoints" / "flow.pt").exists()
    other = write_config(tmp_path, "other.yaml", seed=5)
    for extra in ([], ["--resume"]):
        assert main(["jko", str(other), "--out", str(out), "--quiet", *extra]) == 2
        assert "different configuration (seed 4 there, 5 here)" in capsys.readouterr().err
    assert saved_seed(out) == 4 and not (out / "metrics.json").exists()


def test_every_differing_field_is_named_with_both_values():
    # only the first field (alphabetically) used to be named, which could hide the real one
    from molgen.jko.checkpoint import config_difference

    saved = config_to_dict(config_from_dict(TINY))
    other = config_from_dict({**TINY, "seed": 5, "flow": {**TINY.get("flow", {}), "steps": 9}})
    difference = config_difference(saved, other)
    assert f"seed {saved['seed']} there, 5 here" in difference
    assert f"flow.steps {saved['flow']['steps']} there, 9 here" in difference


def test_resume_of_a_run_killed_before_its_first_checkpoint(tmp_path, monkeypatch):
    config = config_from_dict(TINY)
    run_experiment(config, tmp_path / "whole", progress=False)
    resumed = tmp_path / "resumed"
    run_interrupted_at_step(config, resumed, monkeypatch, step=1)
    run_experiment(config, resumed, progress=False, resume=True)
    assert outputs(resumed) == outputs(tmp_path / "whole")


def test_resume_removes_stale_temporaries(tmp_path, monkeypatch):
    config = config_from_dict(TINY)
    out = tmp_path / "run"
    run_interrupted_at_step(config, out, monkeypatch, step=3)
    stale = [out / "checkpoints" / ".flow.pt.abcd1234.pt", out / ".metrics.json.abcd1234.json"]
    for path in stale:
        path.write_bytes(b"half")
    run_experiment(config, out, progress=False, resume=True)
    assert not any(path.exists() for path in stale)


def test_seed_beyond_numpy_range_is_a_config_error(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["jko", "--preset", "ou", "--seed", str(2**32), "--out", str(out), "--quiet"]
    assert main(args) == 2
    assert "seed" in capsys.readouterr().err
    assert not out.exists()


def test_flag_errors_name_the_flag_not_the_file(tmp_path, capsys):
    config = write_config(tmp_path)
    assert main(["jko", str(config), "--dim", "0", "--out", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err
    assert "--dim" in error and f"{config}: dim" not in error


def test_marginal_plot_of_non_finite_samples(tmp_path):
    values = torch.randn(100)
    values[:3] = torch.inf
    plot_marginals(tmp_path / "marginals.png", {0.1: values}, None, "diverged")
    assert (tmp_path / "marginals.png").stat().st_size > 0


def test_reference_curves_are_called_oracle_only_where_they_are_the_law_at_each_time(
    monkeypatch, tmp_path
):
    import matplotlib.axes

    from molgen.jko.config import config_from_dict
    from molgen.jko.presets import build_problem

    labels = []
    original = matplotlib.axes.Axes.plot

    def recording_plot(self, *args, **kwargs):
        labels.append(kwargs.get("label"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "plot", recording_plot)
    values = torch.randn(200, dtype=torch.float64)
    for preset, dim, expected in (
        ("mixture", 2, "stationary target"),
        ("aggregation", 1, "steady state"),
        ("ou", 2, "oracle"),
    ):
        problem = build_problem(config_from_dict({"preset": preset, "dim": dim}))
        labels.clear()
        plot_marginals(
            tmp_path / f"{preset}.png",
            {0.5: values},
            problem.reference_marginal,
            preset,
            reference_label=problem.reference_label,
        )
        assert labels == [expected]


def test_resume_of_a_mixture_whose_key_looks_like_a_number(tmp_path, monkeypatch):
    mixture = {
        **TINY,
        "preset": "mixture",
        "dim": 2,
        "problem": {"components": 2, "width": 2.0, "mixture_key": "1e3"},
    }
    out = tmp_path / "run"
    run_interrupted_at_step(config_from_dict(mixture), out, monkeypatch, step=1)
    path = write_config(tmp_path, **mixture)
    assert main(["jko", str(path), "--out", str(out), "--quiet", "--resume"]) == 0
    assert yaml.safe_load((out / "config.yaml").read_text())["problem"]["mixture_key"] == "1e3"


def test_device_flag_overrides_a_gpu_config(tmp_path):
    # a config asking for CUDA was refused on a CPU machine although --device cpu was given;
    # --no-progress is the spelling of the other commands
    config = write_config(tmp_path, device="cuda")
    out = tmp_path / "run"
    assert main(["jko", str(config), "--device", "cpu", "--out", str(out), "--no-progress"]) == 0
    assert yaml.safe_load((out / "config.yaml").read_text())["device"] == "cpu"


def test_a_field_missing_on_one_side_is_named():
    from molgen.jko.checkpoint import config_difference

    saved = {**config_to_dict(config_from_dict(TINY)), "removed_field": None}
    assert config_difference(saved, config_from_dict(TINY)) == (
        "removed_field None there, '(missing)' here"
    )
