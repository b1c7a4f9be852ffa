"""``molgen run`` plumbing with the stages replaced by fakes: which arguments each stage
gets, ``--debug``, Ctrl-C, and unreadable bookkeeping files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

import molgen.pipeline as pipeline
from cli.main import main
from forcefields.errors import ConfigError


def _output(argv: list[str]) -> Path:
    """The file whose presence marks stage ``argv`` as done."""
    if argv[0] == "free-energy":
        return Path(argv[argv.index("--json") + 1])
    out = Path(argv[argv.index("--out") + 1])
    return {
        "reference": out / "stats.json",
        "train": out / "checkpoints" / "final.pt",
        "sample": out.with_name(out.name + ".npz"),
        "evaluate": out / "report.json",
    }[argv[0]]


@pytest.fixture
def stages(monkeypatch):
    """Fake stages: each records its argv and writes its output; ``stages.behaviour[NAME]``
    (a callable taking argv) replaces one."""

    class Stages:
        calls: list[list[str]] = []
        behaviour: dict = {}

    def fake_main(argv):
        argv = list(argv)
        Stages.calls.append(argv)
        if argv[0] in Stages.behaviour:
            return Stages.behaviour[argv[0]](argv)
        done = _output(argv)
        done.parent.mkdir(parents=True, exist_ok=True)
        done.write_text("{}")
        return 0

    monkeypatch.setattr("cli.main.main", fake_main)
    monkeypatch.setattr(
        pipeline, "equilibrated_reference_frames", lambda *arguments: np.zeros((2, 14, 3))
    )
    Stages.calls = []
    Stages.behaviour = {}
    return Stages


def _seed_of(argv: list[str]) -> str | None:
    return argv[argv.index("--seed") + 1] if "--seed" in argv else None


def test_seed_reaches_every_stage(tmp_path, stages):
    assert main(["run", "--quick", "--out", str(tmp_path / "run"), "--seed", "7"]) == 0
    names = [argv[0] for argv in stages.calls]
    assert names == ["reference", "train", "sample", "evaluate", "free-energy"]
    for argv in stages.calls:
        if argv[0] == "train":
            assert yaml.safe_load(Path(argv[1]).read_text())["seed"] == 7
        else:
            assert _seed_of(argv) == "7", argv


def test_no_progress_reaches_the_stages_that_draw_progress_bars(tmp_path, stages):
    assert main(["run", "--quick", "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    quiet = {argv[0] for argv in stages.calls if "--no-progress" in argv}
    assert quiet == {"reference", "train", "sample"}


def test_progress_bars_are_shown_by_default(tmp_path, stages):
    assert main(["run", "--quick", "--out", str(tmp_path / "run")]) == 0
    assert not any("--no-progress" in argv for argv in stages.calls)


def test_debug_shows_the_stage_error_with_its_traceback(tmp_path, monkeypatch, capsys):
    import cli.reference

    def broken(args):
        raise ConfigError("broken.psf: line 3: not a psf")

    monkeypatch.setattr(cli.reference, "run", broken)
    for argv in (["--debug", "run"], ["run", "--debug"]):
        assert main([*argv, "--quick", "--out", str(tmp_path / "run")]) == 2
        error = capsys.readouterr().err
        assert "Traceback" in error
        assert "molgen reference: error: broken.psf: line 3: not a psf" in error


def _status_without_escaping_interrupt(out: str) -> int:
    """Exit status of ``molgen run --quick --out OUT``; fails if Ctrl-C escapes it."""
    try:
        return main(["run", "--quick", "--out", out])
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped molgen run")


def test_ctrl_c_in_a_stage_exits_130_and_the_next_call_runs_it_again(tmp_path, stages, capsys):
    def interrupted(argv):
        raise KeyboardInterrupt

    stages.behaviour["sample"] = interrupted
    out = str(tmp_path / "my run")
    assert _status_without_escaping_interrupt(out) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "interrupted" in err and "Traceback" not in err
    del stages.behaviour["sample"]
    stages.calls.clear()
    assert main(["run", "--quick", "--out", out]) == 0
    assert [argv[0] for argv in stages.calls] == ["sample", "evaluate", "free-energy"]


def test_train_interrupted_exits_130_and_resumes(tmp_path, stages, capsys):
    def interrupted(argv):
        Path(argv[argv.index("--out") + 1]).mkdir()
        return 130

    stages.behaviour["train"] = interrupted
    out = str(tmp_path / "run")
    assert _status_without_escaping_interrupt(out) == 130
    assert "Traceback" not in capsys.readouterr().err
    del stages.behaviour["train"]
    stages.calls.clear()
    assert main(["run", "--quick", "--out", out]) == 0
    assert stages.calls[0][0] == "train" and "--resume" in stages.calls[0]


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '"text"'])
@pytest.mark.parametrize("name", ["stages.json", "pipeline.json"])
def test_unreadable_bookkeeping_file_is_a_one_line_error_naming_it(
    tmp_path, stages, capsys, name, content
):
    out = tmp_path / "run"
    assert main(["run", "--quick", "--out", str(out)]) == 0
    (out / name).write_text(content)
    capsys.readouterr()
    assert main(["run", "--quick", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and name in err, err


def test_index_and_train_config_are_written_atomically(tmp_path, stages, monkeypatch):
    written = []
    real = pipeline.write_text_atomic

    def spy(path, text, **kwargs):
        written.append(Path(path).name)
        return real(path, text, **kwargs)

    monkeypatch.setattr(pipeline, "write_text_atomic", spy)
    assert main(["run", "--quick", "--out", str(tmp_path / "run")]) == 0
    assert {"index.md", "train.yaml"} <= set(written)
    assert json.loads((tmp_path / "run" / "stages.json").read_text())["sample"] == 0


def test_progress_lines_are_commands_a_shell_can_run(tmp_path, stages, capsys):
    import shlex

    out = tmp_path / "my run"
    assert main(["run", "--quick", "--out", str(out)]) == 0
    lines = [
        line.removeprefix("[molgen run] ")
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("[molgen run] molgen ")
    ]
    assert [shlex.split(line)[1:] for line in lines] == stages.calls


def test_a_stage_that_wrote_its_output_but_never_reported_runs_again(tmp_path, stages):
    # evaluate writes report.json and then dies with an error: the next call counted the
    # present report as a passed check and exited 0
    def crashes_after_writing(argv):
        done = _output(argv)
        done.parent.mkdir(parents=True, exist_ok=True)
        done.write_text("{}")
        raise RuntimeError("ended after writing its output")

    stages.behaviour["evaluate"] = crashes_after_writing
    out = tmp_path / "run"
    with pytest.raises(RuntimeError):
        main(["run", "--quick", "--out", str(out)])
    assert json.loads((out / "stages.json").read_text())["evaluate"] is None
    stages.behaviour["evaluate"] = lambda argv: 1  # its check fails this time
    stages.calls = []
    assert main(["run", "--quick", "--out", str(out)]) == 1
    assert [argv[0] for argv in stages.calls] == ["evaluate", "free-energy"]
