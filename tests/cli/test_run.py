"""``molgen run --quick``: every stage end to end, and a second call resumes."""

import json

from cli.main import main


def test_quick_pipeline_runs_every_stage_and_resumes(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["run", "--quick", "--out", str(run)]) == 0
    for output in (
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
    report = json.loads((run / "free_energy.json").read_text())
    assert report["n"] == 1000
    capsys.readouterr()
    assert main(["run", "--quick", "--out", str(run)]) == 0
    assert capsys.readouterr().out.count("present, skipped") == 5
