"""``benchmarks.openmm_velocity_redraw``: option checks and where its numbers go."""

from __future__ import annotations

import json

import pytest

from benchmarks.openmm_velocity_redraw import main


@pytest.mark.parametrize(
    "option",
    [
        ["--record-ps", "0"],  # no segment recorded: a table of NaN
        ["--particles", "1"],  # no standard error over one oscillator
        ["--steps", "0"],
        ["--out", "report.json"],  # the numbers would overwrite the report
    ],
)
def test_options_without_a_result_are_usage_errors(tmp_path, monkeypatch, option):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as raised:
        main(["--out", "report.md", *option])
    assert raised.value.code == 2
    assert list(tmp_path.iterdir()) == []


def test_the_numbers_go_beside_the_report_in_a_folder_with_a_dot(tmp_path):
    out = tmp_path / "v1.2" / "redraw"
    main(
        ["--omega-dt", "0.25", "--steps", "5", "--burn-in-ps", "0", "--record-ps", "0.005"]
        + ["--particles", "2", "--out", str(out)]
    )
    assert sorted(p.name for p in out.parent.iterdir()) == ["redraw", "redraw.json"]
    numbers = json.loads((out.parent / "redraw.json").read_text())
    assert numbers["command"].endswith(f"--out {out}")
    assert [row["steps"] for row in numbers["rows"]] == [5]
