"""The trainer on tiny double-well runs: metrics, checkpoints, exact resume, skipped steps."""

from __future__ import annotations

import json
import os
import pathlib
import warnings

import pytest
import torch

from forcefields.errors import ConfigError, InputFileError
from molgen.training import CheckpointError, branch_run, config_from_mapping, load_checkpoint, train
from molgen.training.checkpoints import CHECKPOINT_FORMAT
from molgen.training.model import build_flow
from systems.double_well import double_well_wide
from tests.molgen.training.energies import spoiled_on_call_system
from tests.molgen.training.identical import assert_identical_tensors
from tests.molgen.training.tiny import tiny_config


def _records(run_dir: pathlib.Path) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    for record in records:
        record.pop("seconds_per_step")  # wall-clock time, the one non-reproducible field
    return records


def test_run_writes_directory_metrics_and_checkpoints(tmp_path):
    config = config_from_mapping(tiny_config())
    result = train(config, tmp_path / "run", progress=False)
    run = tmp_path / "run"
    assert result.finished and result.step == 24 and result.skipped == 0
    assert (run / "config.yaml").is_file() and (run / "plots").is_dir()
    names = sorted(path.name for path in (run / "checkpoints").glob("*.pt"))
    # every 5 steps and at phase ends (12, 24); keep: 2 periodic ones, plus phase ends + final
    assert names == [
        "end_finetune.pt",
        "end_pretrain.pt",
        "final.pt",
        "step_000000020.pt",
        "step_000000024.pt",
    ]
    records = _records(run)
    assert [r["step"] for r in records] == [4, 8, 12, 16, 20, 24]
    assert [r["phase"] for r in records] == ["pretrain"] * 3 + ["finetune"] * 3
    last = records[-1]
    assert set(last["losses"]) == {"l2_plus", "pl2_cb", "kl_x"}
    assert last["total"] == pytest.approx(
        last["losses"]["l2_plus"] + 0.5 * last["losses"]["pl2_cb"], rel=1e-5
    )
    samples = last["samples"]
    assert samples["n"] == 128
    assert sum(samples["mode_fractions"].values()) == pytest.approx(1.0)
    assert 0.0 < samples["ess_fraction"] <= 1.0
    assert last["skipped_total"] == 0
    # cosine from 1e-3 to 1e-4 over 12 steps: the last step runs at the final factor
    assert last["lr"] == pytest.approx(1e-4)


def test_pretraining_lowers_the_loss_on_held_out_data(tmp_path):
    mapping = tiny_config(system="double_well_wide")
    mapping["phases"] = mapping["phases"][:1]
    mapping["phases"][0]["steps"] = 40
    config = config_from_mapping(mapping)
    train(config, tmp_path / "run", progress=False)
    data = double_well_wide().sample(4096, torch.Generator().manual_seed(123)).float()
    initial = build_flow(config.flow, 12)  # the stacks start as the identity map
    trained = build_flow(config.flow, 12)
    trained.load_state_dict(load_checkpoint(tmp_path / "run" / "checkpoints" / "final.pt")["model"])
    with torch.no_grad():
        before = -initial.log_prob(data).mean().item()
        after = -trained.log_prob(data).mean().item()
    # The initial N(0, I) puts the std-10 coordinates hundreds of nats too low; the paired
    # comparison on the same 4096 points has a Monte-Carlo error of a few nats, so halving
    # the negative log-likelihood is far outside noise.
    assert after < 0.5 * before


@pytest.mark.parametrize("stop", [9, 12, 17])
def test_interrupted_and_resumed_run_is_bitwise_identical(tmp_path, stop):
    config = config_from_mapping(tiny_config())
    train(config, tmp_path / "whole", progress=False)
    partial = train(config, tmp_path / "split", stop_at_step=stop, progress=False)
    assert not partial.finished and partial.step == stop
    train(config, tmp_path / "split", resume=True, progress=False)
    whole = load_checkpoint(tmp_path / "whole" / "checkpoints" / "final.pt")
    split = load_checkpoint(tmp_path / "split" / "checkpoints" / "final.pt")
    assert_identical_tensors(whole["model"], split["model"])
    for index, state in whole["optimizer"]["state"].items():
        assert torch.equal(state["exp_avg_sq"], split["optimizer"]["state"][index]["exp_avg_sq"])
    assert torch.equal(
        whole["per_process"][0]["loss_state"]["pl2_cb.cache"]["points"],
        split["per_process"][0]["loss_state"]["pl2_cb.cache"]["points"],
    )
    assert _records(tmp_path / "whole") == _records(tmp_path / "split")


def test_phases_appended_to_a_finished_run_are_trained_on_resume(tmp_path):
    both = tiny_config()
    first = tiny_config()
    first["phases"] = first["phases"][:1]
    train(config_from_mapping(both), tmp_path / "whole", progress=False)
    train(config_from_mapping(first), tmp_path / "grown", progress=False)
    result = train(config_from_mapping(both), tmp_path / "grown", resume=True, progress=False)
    assert result.finished and result.step == 24
    checkpoints = tmp_path / "grown" / "checkpoints"
    whole = load_checkpoint(tmp_path / "whole" / "checkpoints" / "final.pt")
    grown = load_checkpoint(checkpoints / "final.pt")
    assert grown["step"] == 24
    assert_identical_tensors(whole["model"], grown["model"])
    # the first run's final state is kept as the end of its last phase
    assert load_checkpoint(checkpoints / "end_pretrain.pt")["step"] == 12


def test_resume_of_a_run_stopped_before_its_first_checkpoint_starts_it_again(tmp_path):
    config = config_from_mapping(tiny_config())
    train(config, tmp_path / "whole", progress=False)
    train(config, tmp_path / "killed", stop_at_step=3, progress=False)
    for checkpoint in (tmp_path / "killed" / "checkpoints").glob("*.pt"):
        checkpoint.unlink()  # as if killed before the first checkpoint was written
    result = train(config, tmp_path / "killed", resume=True, progress=False)
    assert result.finished and result.step == 24
    whole = load_checkpoint(tmp_path / "whole" / "checkpoints" / "final.pt")["model"]
    again = load_checkpoint(tmp_path / "killed" / "checkpoints" / "final.pt")["model"]
    assert_identical_tensors(whole, again)
    assert _records(tmp_path / "whole") == _records(tmp_path / "killed")


def test_missing_init_checkpoint_is_refused_before_anything_is_written(tmp_path):
    config = config_from_mapping(tiny_config(init=str(tmp_path / "missing.pt")))
    with pytest.raises(InputFileError, match="init: .*missing.pt not found"):
        train(config, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("grad_clip", [None, 10.0])
def test_a_finite_gradient_whose_square_overflows_is_skipped(tmp_path, grad_clip):
    # Energy x 1e25 on step 3: the gradient is finite in float32, its square is not. Adam
    # used to take the step, fill its g² average with inf and freeze 99 % of the
    # parameters for good (m / inf = 0), without counting a skip. With clipping, the norm
    # overflowed, the clip scaled every gradient to 0 and Adam stepped on its momentum.
    mapping = tiny_config(metrics={"every": 1, "samples": 0}, checkpoints={"every": 1, "keep": 10})
    mapping["phases"] = [mapping["phases"][1]]
    mapping["phases"][0].update(steps=6, losses={"kl_x": 1.0}, loss_options={}, grad_clip=grad_clip)
    system = spoiled_on_call_system(bad_call=3, factor=1e25)
    result = train(config_from_mapping(mapping), tmp_path / "run", system=system, progress=False)
    assert result.skipped == 1
    checkpoints = tmp_path / "run" / "checkpoints"
    before, at = (load_checkpoint(checkpoints / f"step_{step:09d}.pt") for step in (2, 3))
    assert all(torch.equal(before["model"][k], at["model"][k]) for k in before["model"])
    saved = {step: load_checkpoint(checkpoints / f"step_{step:09d}.pt") for step in (3, 6)}
    moments = saved[6]["optimizer"]["state"].values()
    assert all(torch.isfinite(state["exp_avg_sq"]).all() for state in moments)
    model_3, model_6 = saved[3]["model"], saved[6]["model"]
    changed = [not torch.equal(model_3[k], model_6[k]) for k in model_3 if model_3[k].numel()]
    assert sum(changed) == len(changed)  # every trainable tensor still moves after the skip


def test_a_skipped_first_step_raises_no_scheduler_warning(tmp_path):
    """The schedule steps without an optimizer step when the first step is skipped, on
    purpose; torch's warning about that order is filtered (its message holds regex
    metacharacters, so the filter escapes it)."""
    mapping = tiny_config(metrics={"every": 1, "samples": 0})
    mapping["phases"] = [mapping["phases"][1]]
    mapping["phases"][0].update(steps=3, losses={"l2_plus": 1.0}, loss_options={})
    config = config_from_mapping(mapping)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        result = train(
            config, tmp_path / "run", system=spoiled_on_call_system(bad_call=1), progress=False
        )
    assert result.skipped == 1


def test_non_finite_step_is_skipped_counted_and_never_saved(tmp_path):
    mapping = tiny_config(metrics={"every": 1, "samples": 0}, checkpoints={"every": 1, "keep": 10})
    mapping["phases"] = [mapping["phases"][1]]
    mapping["phases"][0].update(steps=6, losses={"l2_plus": 1.0}, loss_options={})
    config = config_from_mapping(mapping)
    # one energy call per step (one loss, no metric samples): step 3 is NaN
    result = train(
        config, tmp_path / "run", system=spoiled_on_call_system(bad_call=3), progress=False
    )
    assert result.skipped == 1
    records = _records(tmp_path / "run")
    assert [r["skipped_total"] for r in records] == [0, 0, 1, 1, 1, 1]
    assert records[2]["total"] is None  # NaN is written as null
    checkpoints = tmp_path / "run" / "checkpoints"
    saved = {step: load_checkpoint(checkpoints / f"step_{step:09d}.pt") for step in (2, 3, 4)}
    for state in saved.values():
        assert all(torch.isfinite(t).all() for t in state["model"].values())
    unchanged = all(
        torch.equal(saved[2]["model"][k], saved[3]["model"][k]) for k in saved[2]["model"]
    )
    moved = any(
        not torch.equal(saved[3]["model"][k], saved[4]["model"][k]) for k in saved[3]["model"]
    )
    assert unchanged and moved
    assert saved[3]["position"]["skipped"] == 1


class _Payload:
    """Unpickling this object would create a file (it must never be unpickled)."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def test_crafted_pickle_is_refused(tmp_path):
    config = config_from_mapping(tiny_config())
    train(config, tmp_path / "run", stop_at_step=5, progress=False)
    marker = tmp_path / "code_ran"
    checkpoint = tmp_path / "run" / "checkpoints" / "step_000000005.pt"
    torch.save({"format": CHECKPOINT_FORMAT, "model": _Payload(marker)}, checkpoint)
    unsafe = "not a readable molgen checkpoint .it holds objects other than tensors"
    with pytest.raises(CheckpointError, match=unsafe):
        train(config, tmp_path / "run", resume=True, progress=False)
    assert not marker.exists()


def test_existing_run_needs_resume_and_matching_config(tmp_path):
    config = config_from_mapping(tiny_config())
    train(config, tmp_path / "run", stop_at_step=5, progress=False)
    with pytest.raises(InputFileError, match="already holds a run"):
        train(config, tmp_path / "run", progress=False)
    with pytest.raises(InputFileError, match="no checkpoint"):
        train(config, tmp_path / "empty", resume=True, progress=False)
    other = config_from_mapping(tiny_config(seed=8))
    with pytest.raises(ConfigError, match="seed"):
        train(other, tmp_path / "run", resume=True, progress=False)


def test_cli_trains_and_reports_config_errors(tmp_path, capsys):
    from cli.main import main

    config = tmp_path / "tiny.yaml"
    mapping = tiny_config(metrics={"every": 6, "samples": 0})
    mapping["phases"][0]["steps"] = mapping["phases"][1]["steps"] = 3
    config.write_text(json.dumps(mapping))  # JSON is YAML
    assert (
        main(["train", str(config), "--out", str(tmp_path / "run"), "--no-progress", "--seed", "3"])
        == 0
    )
    assert (tmp_path / "run" / "checkpoints" / "final.pt").is_file()
    assert "seed: 3" in (tmp_path / "run" / "config.yaml").read_text()
    mapping["phases"][1]["steps"] = -1
    config.write_text(json.dumps(mapping))
    assert main(["train", str(config), "--out", str(tmp_path / "bad")]) == 2
    assert "phases[1].steps" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "bad")


def test_branch_from_a_shared_pretraining_matches_a_full_run(tmp_path):
    config = config_from_mapping(tiny_config())
    train(config, tmp_path / "whole", progress=False)
    branch_run(tmp_path / "whole", "pretrain", config, tmp_path / "branch")
    train(config, tmp_path / "branch", resume=True, progress=False)
    whole = load_checkpoint(tmp_path / "whole" / "checkpoints" / "final.pt")["model"]
    branch = load_checkpoint(tmp_path / "branch" / "checkpoints" / "final.pt")["model"]
    assert all(torch.equal(whole[name], branch[name]) for name in whole)
    assert _records(tmp_path / "whole") == _records(tmp_path / "branch")
    changed = tiny_config()
    changed["phases"][0]["lr"] = 0.5
    with pytest.raises(
        ConfigError, match=r"phases\[0\.\.0\] differ .*\(phases\[0\]\.lr 0\.01 there, 0\.5 here\)"
    ):
        other = config_from_mapping(changed)
        branch_run(tmp_path / "whole", "pretrain", other, tmp_path / "bad")
        train(other, tmp_path / "bad", resume=True, progress=False)


def test_a_loss_cut_off_from_the_parameters_is_a_skipped_step_not_a_crash(tmp_path, monkeypatch):
    # Coordinates whose squares overflow drop every sample; a loss built from none of them
    # no longer depends on the parameters and used to end training in backward().
    import molgen.training.loss_mixture as loss_mixture

    real = loss_mixture.get_loss

    def cut_off_at_step_3(name, **options):
        function = real(name, **options)
        calls = iter(range(1, 10**6))

        def loss(flow, beta_u_b, batch):
            value = function(flow, beta_u_b, batch)
            return value.detach() if next(calls) == 3 else value

        return loss

    monkeypatch.setattr(loss_mixture, "get_loss", cut_off_at_step_3)
    mapping = tiny_config(metrics={"every": 1, "samples": 0})
    mapping["phases"] = [mapping["phases"][1]]
    mapping["phases"][0].update(steps=5, losses={"l2_plus": 1.0}, loss_options={})
    result = train(config_from_mapping(mapping), tmp_path / "run", progress=False)
    assert result.finished and result.skipped == 1
    assert [r["skipped_total"] for r in _records(tmp_path / "run")] == [0, 0, 1, 1, 1]


@pytest.mark.parametrize(
    ("saved", "now", "expected"),
    [
        ({"lr": 1}, {"lr": 1.0}, "phases[0].lr 1 there, 1.0 here"),
        ({"a": None}, {}, "phases[0].a None there, '(missing)' here"),
        ({"o": {"k": 1}}, {"o": {"k": 1.0}}, "phases[0] written differently"),
    ],
)
def test_a_phase_that_differs_only_in_spelling_is_still_named(saved, now, expected):
    # equal by Python's == (1 == 1.0, a missing key read as None): the fingerprint strings
    # differ, so the resume is refused, and the message must not be empty
    from molgen.training.trainer import _phase_difference

    difference = _phase_difference([json.dumps(saved)], [json.dumps(now)], 0)
    assert difference == expected
