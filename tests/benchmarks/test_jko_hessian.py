"""The Hessian benchmark times both routes and writes one row per dimension."""

import json
import shlex

import pytest
import torch

from benchmarks.jko_hessian import main


def test_writes_a_row_per_dimension_with_both_routes(tmp_path):
    out, numbers = tmp_path / "hessian.md", tmp_path / "hessian.json"
    main(
        ["--dims", "2", "3", "--hidden", "8", "8", "--batch", "16", "--chunk", "32"]
        + ["--repeats", "1", "--out", str(out), "--json", str(numbers)]
    )
    rows = json.loads(numbers.read_text())["rows"]
    assert sorted(rows) == ["2", "3"]
    for row in rows.values():
        assert set(row) == {
            "update_autograd",
            "update_forward_mode",
            "push_autograd",
            "push_forward_mode",
        }
        assert all(seconds > 0 for seconds in row.values())
    assert out.read_text().count("\n| ") == 3


def test_zero_repeats_is_a_usage_error_before_any_timing(tmp_path):
    out = tmp_path / "hessian.md"
    with pytest.raises(SystemExit) as raised:
        main(["--dims", "2", "--repeats", "0", "--out", str(out)])
    assert raised.value.code == 2
    assert not out.exists()


def test_both_outputs_record_the_command(tmp_path):
    out, numbers = tmp_path / "hessian.md", tmp_path / "hessian.json"
    argv = ["--dims", "2", "--hidden", "4", "--batch", "4", "--chunk", "4", "--repeats", "1"]
    argv += ["--out", str(out), "--json", str(numbers)]
    main(argv)
    command = (
        f"OMP_NUM_THREADS={torch.get_num_threads()} python -m benchmarks.jko_hessian "
        f"{shlex.join(argv)}"
    )
    assert json.loads(numbers.read_text())["command"] == command
    assert out.read_text().startswith(f"`{command}`\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hessian.json", "hessian.md"]
