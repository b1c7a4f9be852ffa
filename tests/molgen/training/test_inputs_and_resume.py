"""Inputs refused before training, logged-only losses, and what a resume keeps."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import molgen.training.trainer as trainer_module
import systems
from forcefields.errors import (
    ConfigError,
    InputFileError,
    MolgenError,
    NonFiniteCoordinatesError,
    ShapeMismatchError,
)
from molgen.training import branch_run, config_from_mapping, train
from molgen.training.config import DataConfig
from molgen.training.data import load_data
from molgen.training.distributed import Processes
from systems.double_well import DoubleWell
from tests.molgen.training.energies import spoiled_on_call_system
from tests.molgen.training.tiny import tiny_config


def _records(run_dir) -> list[dict]:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    for record in records:
        record.pop("seconds_per_step")
    return records


def test_a_refused_resume_keeps_the_runs_config_yaml(tmp_path):
    train(config_from_mapping(tiny_config()), tmp_path / "run", stop_at_step=5, progress=False)
    before = (tmp_path / "run" / "config.yaml").read_text()
    with pytest.raises(ConfigError, match="differs \\(seed 7 there, 8 here\\)"):
        other = config_from_mapping(tiny_config(seed=8))
        train(other, tmp_path / "run", resume=True, progress=False)
    assert (tmp_path / "run" / "config.yaml").read_text() == before


def test_resume_drops_a_metrics_line_cut_short_by_a_kill(tmp_path):
    config = config_from_mapping(tiny_config())
    train(config, tmp_path / "whole", progress=False)
    train(config, tmp_path / "killed", stop_at_step=10, progress=False)
    metrics = tmp_path / "killed" / "metrics.jsonl"
    metrics.write_text(metrics.read_text() + '{"step": 12, "phase": "pre')  # killed mid-write
    result = train(config, tmp_path / "killed", resume=True, progress=False)
    assert result.finished
    assert _records(tmp_path / "whole") == _records(tmp_path / "killed")


def test_a_broken_metrics_line_before_the_last_is_named(tmp_path):
    config = config_from_mapping(tiny_config())
    train(config, tmp_path / "run", stop_at_step=10, progress=False)
    metrics = tmp_path / "run" / "metrics.jsonl"
    lines = metrics.read_text().splitlines()
    metrics.write_text("\n".join([lines[0], "{oops", *lines[1:]]) + "\n")
    with pytest.raises(InputFileError, match=r"metrics.jsonl:2: not a JSON record"):
        train(config, tmp_path / "run", resume=True, progress=False)


def test_a_non_finite_loss_of_weight_zero_is_logged_without_skipping_the_step(tmp_path):
    data = systems.load("double_well_medium").toy_energy.sample(
        256, torch.Generator().manual_seed(0)
    )
    np.savez(tmp_path / "data.npz", x=data.numpy())
    mapping = tiny_config(metrics={"every": 1, "samples": 0})
    mapping["phases"] = [mapping["phases"][0]]
    mapping["phases"][0].update(
        steps=5,
        losses={"kl_z_dd": 1.0, "kl_x": 0.0},
        data={"source": "file", "path": str(tmp_path / "data.npz")},
    )
    # kl_x is the only energy call of a step: call 3 (step 3) is NaN
    system = spoiled_on_call_system(bad_call=3)
    result = train(config_from_mapping(mapping), tmp_path / "run", system=system, progress=False)
    assert result.skipped == 0
    step3 = _records(tmp_path / "run")[2]
    assert step3["losses"]["kl_x"] is None
    assert step3["total"] == pytest.approx(step3["losses"]["kl_z_dd"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"clip": "default"}, r"phases\[1\]: clip"),
        (
            {
                "losses": {"kl_z_dd": 1.0},
                "loss_options": {},
                "data": {"source": "exact", "size": 64, "mode_weights": {"nope": 2}},
            },
            r"phases\[1\]\.data\.mode_weights: unknown mode",
        ),
        (
            {"losses": {"kl_x_reweighted": 1.0}, "loss_options": {"kl_x_reweighted": {}}},
            r"kl_x_reweighted\.scheme: expected fixed, ratio or adaptive, got None",
        ),
        (
            # used to be a KeyError traceback
            {
                "losses": {"kl_x_reweighted": 1.0},
                "loss_options": {"kl_x_reweighted": {"scheme": "adaptive"}},
            },
            r"kl_x_reweighted\.target: required, one value per mode \['major', 'minor'\]",
        ),
        (
            # used to pass the checks and fail at the first step with an IndexError
            {
                "losses": {"kl_x_reweighted": 1.0},
                "loss_options": {"kl_x_reweighted": {"scheme": "fixed", "weights": [1.0]}},
            },
            r"kl_x_reweighted\.weights: 1 values, but system 'double_well_medium' has 2 modes",
        ),
        (
            # used to be accepted silently
            {
                "losses": {"kl_x_reweighted": 1.0},
                "loss_options": {"kl_x_reweighted": {"scheme": "ratio", "target": [0.5, 0.3, 0.2]}},
            },
            r"kl_x_reweighted\.target: 3 values",
        ),
        (
            {
                "losses": {"kl_x_reweighted": 1.0},
                "loss_options": {"kl_x_reweighted": {"scheme": "ratio", "target": [1.2, -0.2]}},
            },
            r"kl_x_reweighted\.target: values must be finite and >= 0",
        ),
        (
            # used to train the phase on a loss of 0 at every step
            {
                "losses": {"kl_x_reweighted": 1.0},
                "loss_options": {"kl_x_reweighted": {"scheme": "fixed", "weights": [0, 0]}},
            },
            r"kl_x_reweighted\.weights: every value is 0",
        ),
        # the values below used to fail at the phase's first step (after the earlier
        # phases had trained), or to skip every step of it
        (
            {"losses": {"kl_z_df": 1.0}, "loss_options": {"kl_z_df": {"weights": "sofmax"}}},
            r"kl_z_df\.weights: expected one of softmax, std, clamp, got 'sofmax'",
        ),
        (
            {"losses": {"kl_z_df": 1.0}, "loss_options": {"kl_z_df": {"temperature": -1}}},
            r"kl_z_df\.temperature: expected a positive number",
        ),
        (
            {"losses": {"pl2_gb": 1.0}, "loss_options": {"pl2_gb": {"clamp": [10, 0.1]}}},
            r"pl2_gb\.clamp: expected \[low, high\] with 0 < low < high",
        ),
        (
            {"losses": {"sinkhorn_df": 1.0}, "loss_options": {"sinkhorn_df": {"epsilon": -0.1}}},
            r"sinkhorn_df\.epsilon: expected a positive number",
        ),
        (
            {"losses": {"sinkhorn_df": 1.0}, "loss_options": {"sinkhorn_df": {"iterations": 2.5}}},
            r"sinkhorn_df\.iterations: expected a positive integer",
        ),
        (
            {
                "losses": {"kl_x_reweighted": 1.0},
                "loss_options": {
                    "kl_x_reweighted": {"scheme": "adaptive", "target": [0.78, 0.22], "factor": 0}
                },
            },
            r"kl_x_reweighted\.factor: expected a number above 1",
        ),
    ],
)
def test_phase_options_the_system_cannot_take_fail_before_the_first_phase(change, field, tmp_path):
    mapping = tiny_config()
    mapping["phases"][1].update(change)
    with pytest.raises(ConfigError, match=field):
        train(config_from_mapping(mapping), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("array", "key", "error", "message"),
    [
        (np.zeros((10, 5)), "x", ShapeMismatchError, r"phases\[1\]\.data: data of shape"),
        (np.zeros((10, 12)), "y", InputFileError, "no array 'y'"),
    ],
)
def test_a_later_phases_bad_data_fails_before_the_first_phase(array, key, error, message, tmp_path):
    # read only when the phase started, after the earlier phases had trained
    np.savez(tmp_path / "data.npz", x=array)
    mapping = tiny_config()
    mapping["phases"][1].update(
        losses={"kl_z_dd": 1.0},
        loss_options={},
        data={"source": "file", "path": str(tmp_path / "data.npz"), "key": key},
    )
    with pytest.raises(error, match=message):
        train(config_from_mapping(mapping), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_a_batch_smaller_than_the_process_count_is_refused(tmp_path, monkeypatch):
    mapping = tiny_config()
    mapping["phases"][1]["batch_size"] = 1
    mapping["phases"][1].update(losses={"kl_x": 1.0}, loss_options={})
    monkeypatch.setattr(trainer_module, "current_processes", lambda: Processes(0, 2))
    with pytest.raises(
        ConfigError, match=r"phases\[1\]\.batch_size: 1 gives 0 point\(s\) per process \(2 "
    ):
        train(config_from_mapping(mapping), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("loss", ["l2_plus", "pl2_gb", "pl2_cb", "sinkhorn_df"])
def test_a_batch_of_one_point_is_refused_for_losses_that_need_two(loss, tmp_path):
    # a pair loss or l2_plus of one point is exactly 0 (trains nothing); Sinkhorn needs two
    mapping = tiny_config()
    mapping["phases"][1].update(batch_size=1, losses={loss: 1.0}, loss_options={})
    with pytest.raises(ConfigError, match=rf"phases\[1\]\.batch_size: 1 .*{loss} needs at least 2"):
        train(config_from_mapping(mapping), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()
    mapping["phases"][1]["batch_size"] = 2
    train(config_from_mapping(mapping), tmp_path / "run", progress=False)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.float64(3.0), "expected points"),
        (np.zeros((0, 12)), "expected points"),
        (np.array([["a"] * 12] * 4), "not real numbers"),
        (np.ones((4, 12), dtype=complex), "not real numbers"),
        (np.array([1, "a", None], dtype=object), "not a readable .npz"),
    ],
)
def test_bad_npz_arrays_are_typed_errors_naming_the_file(array, message, tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, x=array)
    system = systems.load("double_well_medium")
    with pytest.raises(MolgenError, match=message) as raised:
        load_data(system, DataConfig(source="file", path=str(path)), 1.0, 0, "phases[0].data")
    assert str(path) in str(raised.value)


def test_a_file_that_is_not_an_npz_archive_is_a_typed_error(tmp_path):
    path = tmp_path / "bad.npz"
    path.write_bytes(b"not a zip archive")
    system = systems.load("double_well_medium")
    with pytest.raises(InputFileError, match="not a readable .npz"):
        load_data(system, DataConfig(source="file", path=str(path)), 1.0, 0, "phases[0].data")


def test_warmup_longer_than_its_phase_is_refused():
    mapping = tiny_config()
    mapping["phases"][1]["schedule"]["warmup_steps"] = 13
    with pytest.raises(ConfigError, match=r"^phases\[1\]\.schedule\.warmup_steps:"):
        config_from_mapping(mapping)
    mapping["phases"][1]["schedule"]["warmup_steps"] = 12
    config_from_mapping(mapping)


def test_unknown_keys_of_mixed_types_are_a_config_error():
    mapping = tiny_config()
    mapping[None] = 1
    mapping[3] = 2
    with pytest.raises(ConfigError, match="unknown key"):
        config_from_mapping(mapping)


def test_a_branch_killed_while_copying_leaves_no_half_checkpoint(tmp_path, monkeypatch):
    import molgen.training.branch as branch_module

    config = config_from_mapping(tiny_config())
    train(config, tmp_path / "source", stop_at_step=13, progress=False)

    def killed_copy(source, target):
        data = open(source, "rb").read()
        open(target, "wb").write(data[: len(data) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(branch_module.shutil, "copyfile", killed_copy)
    with pytest.raises(KeyboardInterrupt):
        branch_run(tmp_path / "source", "pretrain", config, tmp_path / "branch")
    checkpoints = tmp_path / "branch" / "checkpoints"
    assert [path.name for path in checkpoints.iterdir()] == []


def test_a_run_saved_on_another_device_kind_is_refused_on_resume(tmp_path):
    # A CUDA run's metrics generator state cannot seed a CPU generator: resuming it on the
    # CPU used to fail inside torch with a RuntimeError about the state's size.
    config = config_from_mapping(tiny_config())
    train(config, tmp_path / "run", stop_at_step=5, progress=False)
    for checkpoint in (tmp_path / "run" / "checkpoints").glob("*.pt"):
        payload = torch.load(checkpoint, weights_only=True)
        payload["device_type"] = "cuda"
        torch.save(payload, checkpoint)
    with pytest.raises(
        ConfigError, match=r"saved by a run on cuda, resumed on cpu; .*--device cuda"
    ):
        train(config, tmp_path / "run", resume=True, progress=False)


def test_an_init_that_does_not_fit_is_refused_before_anything_is_written(tmp_path):
    # used to leave config.yaml and empty checkpoints/ and plots/ folders behind
    train(config_from_mapping(tiny_config()), tmp_path / "source", progress=False)
    wider = tiny_config(
        flow={"preset": "double_well", "width": 16, "repeats": 1},
        init=str(tmp_path / "source" / "checkpoints" / "final.pt"),
    )
    with pytest.raises(ConfigError, match="init: .*final.pt does not fit this flow") as error:
        train(config_from_mapping(wider), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()
    # says what differs, not torch's list of every parameter name (kilobytes of it)
    assert "with another flow; this run: system 'double_well_medium'" in str(error.value)
    assert len(str(error.value)) < 400


def test_a_trajectory_with_a_non_finite_frame_names_the_frame(tmp_path):
    import mdtraj

    system = systems.load("butane")
    frames = mdtraj.load(str(system.pdb))
    xyz = np.repeat(frames.xyz, 3, axis=0)
    xyz[2, 0, 0] = np.nan
    path = tmp_path / "data.dcd"
    mdtraj.Trajectory(xyz, frames.topology).save_dcd(str(path))
    with pytest.raises(NonFiniteCoordinatesError, match=r"frame\(s\) \[2\]") as raised:
        load_data(system, DataConfig(source="file", path=str(path)), 1.0, 0, "phases[0].data")
    assert str(path) in str(raised.value)


def test_a_config_yaml_that_is_not_this_runs_is_not_overwritten(tmp_path):
    own = tmp_path / "experiment" / "config.yaml"
    own.parent.mkdir()
    own.write_text("# my notes\nsystem: double_well_medium\n")
    config = config_from_mapping(tiny_config())
    for resume in (False, True):
        with pytest.raises(InputFileError, match="not this run's configuration"):
            train(config, own.parent, resume=resume, progress=False)
    assert own.read_text() == "# my notes\nsystem: double_well_medium\n"
    assert sorted(path.name for path in own.parent.iterdir()) == ["config.yaml"]


def test_a_folder_of_other_files_is_not_trained_into(tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "report.json").write_text("{}")
    with pytest.raises(InputFileError, match=r"not a molgen train run \(report\.json\)"):
        train(config_from_mapping(tiny_config()), folder, progress=False)
    assert sorted(path.name for path in folder.iterdir()) == ["report.json"]


class _Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs."""


def test_a_kill_while_saving_a_phase_end_leaves_it_to_the_resumed_run(tmp_path, monkeypatch):
    # The end-of-phase file used to be written after the periodic one of the same step: a
    # kill between the two left a periodic checkpoint at the phase's end, the resumed run
    # went on from it without writing end_pretrain.pt, and branching from it failed.
    config = config_from_mapping(tiny_config())
    save = trainer_module.save_checkpoint

    def killed_at_the_phase_end(path, payload):
        if path.name == "end_pretrain.pt":
            raise _Killed
        save(path, payload)

    monkeypatch.setattr(trainer_module, "save_checkpoint", killed_at_the_phase_end)
    with pytest.raises(_Killed):
        train(config, tmp_path / "run", progress=False)
    monkeypatch.setattr(trainer_module, "save_checkpoint", save)
    assert train(config, tmp_path / "run", resume=True, progress=False).finished
    assert (tmp_path / "run" / "checkpoints" / "end_pretrain.pt").is_file()
    branch_run(tmp_path / "run", "pretrain", config, tmp_path / "branch")


def test_a_data_file_is_read_once_by_the_input_check_and_the_phase(tmp_path, monkeypatch):
    well = DoubleWell(dim=12, gaussian_std=1.0)
    points = well.sample(256, generator=torch.Generator().manual_seed(0))
    np.savez(tmp_path / "points.npz", x=np.asarray(points, dtype=np.float32))
    mapping = tiny_config(metrics={"every": 4, "samples": 0})
    mapping["phases"] = [dict(mapping["phases"][0], steps=2)]
    mapping["phases"][0]["data"] = {"source": "file", "path": str(tmp_path / "points.npz")}
    reads = []

    def counted(*arguments, **options):
        reads.append(arguments[1].path)
        return load_data(*arguments, **options)

    monkeypatch.setattr(trainer_module, "load_data", counted)
    train(config_from_mapping(mapping), tmp_path / "run", progress=False)
    assert reads == [str(tmp_path / "points.npz")]


def test_data_that_cannot_be_standardised_names_the_flow_option_and_the_file(tmp_path):
    # a coordinate that never varies has no scale; it used to end in a bare ValueError
    points = np.random.default_rng(0).normal(size=(64, 12))
    points[:, 1] = 0.5
    np.savez(tmp_path / "constant.npz", x=points)
    mapping = tiny_config()
    mapping["flow"]["standardize"] = True
    mapping["phases"][0]["data"] = {"source": "file", "path": str(tmp_path / "constant.npz")}
    with pytest.raises(
        ConfigError,
        match=r"flow\.standardize: fitted on phases\[0\]\.data \(.*constant\.npz\): .*\[1\]",
    ):
        train(config_from_mapping(mapping), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_a_run_stopped_before_its_first_checkpoint_resumes_under_another_out_spelling(tmp_path):
    # config.yaml records out and the output settings; the run itself is the same, as a
    # resume from a checkpoint (which compares the run's fingerprint) already accepted
    from molgen.training.config import config_to_mapping
    from molgen.yaml_numbers import safe_dump

    run = tmp_path / "run"
    run.mkdir()
    started = config_from_mapping(tiny_config(out="run"))
    (run / "config.yaml").write_text(safe_dump(config_to_mapping(started)))
    other_lr = tiny_config(out=str(run))
    other_lr["phases"][1]["lr"] = 5e-3
    with pytest.raises(
        InputFileError, match=r"not this run's configuration \(it differs in phases\[1\]\)"
    ):
        train(config_from_mapping(other_lr), run, resume=True, progress=False)
    respelled = tiny_config(out=str(run), metrics={"every": 6, "samples": 128})
    result = train(config_from_mapping(respelled), run, resume=True, progress=False)
    assert result.finished


def test_a_resume_refuses_data_that_changed_since_the_checkpoint(tmp_path):
    # a reference folder regenerated in place, or a file replaced, used to be trained on
    # from the checkpoint on, mixing two data sets in one run
    points = np.random.default_rng(0).normal(size=(256, 12))
    data = tmp_path / "data.npz"
    np.savez(data, x=points)
    mapping = tiny_config()
    mapping["phases"][0]["data"] = {"source": "file", "path": str(data)}
    config = config_from_mapping(mapping)
    train(config, tmp_path / "run", stop_at_step=6, progress=False)
    np.savez(data, x=points + 10.0)
    with pytest.raises(ConfigError, match=r"phases\[0\]\.data \(.*data\.npz\) hold other points"):
        train(config, tmp_path / "run", resume=True, progress=False)
    np.savez(data, x=points)
    assert train(config, tmp_path / "run", resume=True, progress=False).finished
