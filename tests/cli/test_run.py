"""``molgen run --quick``: every stage end to end, and a second call resumes."""

import json

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
    assert "another seed" in capsys.readouterr().err
    assert (run / "pipeline.json").read_text() == before


def test_bad_seed_is_refused_before_anything_is_written(tmp_path, capsys):
    assert main(["run", "--quick", "--out", str(tmp_path / "run"), "--seed", "-1"]) == 2
    assert "--seed" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
