"""``molgen run --quick``: every stage end to end, and a second call resumes."""

import json

import pytest

from cli.main import main


def test_quick_pipeline_runs_every_stage_and_resumes(tmp_path, monkeypatch, capsys):
    # a relative --out, as in the README's command
    monkeypatch.chdir(tmp_path)
    # the quick generator is too poor for the overlap checks of evaluate and free-energy:
    # every stage runs and writes its output, and the run exits 1 naming those checks
    assert main(["run", "--quick", "--out", "runs/quick"]) == 1
    assert "failed checks: evaluate, free-energy" in capsys.readouterr().out
    run = tmp_path / "runs" / "quick"
    for output in (
        "pipeline.json",
        "stages.json",
        "reference/stats.json",
        "data.npz",
        "train/checkpoints/final.pt",
        "samples.dcd",
        "samples.dcd.npz",
        "evaluation/report.json",
        "free_energy.json",
        "index.md",
    ):
        assert (run / output).is_file(), output
    index = (run / "index.md").read_text()
    assert "evaluation/dihedral.png" in index
    # the free-energy section shows the estimates, not the file's provenance key
    assert "ess_required:" in index and "written_by" not in index
    report = json.loads((run / "free_energy.json").read_text())
    assert report["n"] == 1000
    assert main(["run", "--quick", "--out", "runs/quick"]) == 1
    second = capsys.readouterr().out
    assert second.count("present, skipped") == 5
    assert "failed checks: evaluate, free-energy" in second
    # the same folder with another seed is another run: refused, nothing changed
    before = (run / "pipeline.json").read_text()
    assert main(["run", "--quick", "--out", "runs/quick", "--seed", "1"]) == 2
    assert "holds another run (seed 0 there, 1 here)" in capsys.readouterr().err
    # and without --quick another size: named as such, not as "another settings"
    assert main(["run", "--out", "runs/quick"]) == 2
    assert "holds another run (sizes --quick there, full here)" in capsys.readouterr().err
    assert (run / "pipeline.json").read_text() == before


@pytest.mark.parametrize("value", ["-1", "4294967296"])
def test_bad_seed_is_refused_before_anything_is_written(tmp_path, capsys, value):
    # 2**32 used to pass the parser, leave pipeline.json behind at the reference stage and
    # so block the corrected command
    assert main(["run", "--quick", "--out", str(tmp_path / "run"), "--seed", value]) == 2
    assert "--seed: must satisfy 0 <= seed < 2**32" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["sample", "RUN", "-n", "4", "--out", "OUT/s.dcd"],
        ["train", "CONFIG.yaml", "--out", "OUT"],
        ["jko", "--preset", "ou", "--out", "OUT"],
        ["reference", "double_well_2d", "--out", "OUT"],
    ],
)
def test_every_seed_option_takes_numpy_seeds_only(tmp_path, capsys, command):
    argv = [word.replace("OUT", str(tmp_path / "out")) for word in command]
    assert main([*argv, "--seed", str(2**32)]) == 2
    assert "--seed: must satisfy 0 <= seed < 2**32" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
