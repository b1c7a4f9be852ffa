"""``benchmarks.energy_device``: option checks made before any export."""

from __future__ import annotations

import json
import shlex

import pytest
import torch

from benchmarks.energy_device import main


@pytest.mark.parametrize("frames", ["0", "3", "1001"])
def test_frames_that_are_not_a_multiple_of_the_four_scales_are_refused(tmp_path, frames):
    # The frames are split evenly over four perturbation scales: 1001 would silently export
    # 1000, 3 none at all.
    out = tmp_path / "device_data"
    with pytest.raises(SystemExit) as raised:
        main(["export", "--out", str(out), "--frames", frames])
    assert raised.value.code == 2
    assert not out.exists()


def test_measure_records_its_command_and_threads_in_the_json(tmp_path, monkeypatch):
    from benchmarks import energy_device

    report = {"device": "cpu", "torch": torch.__version__, "validation": {}, "rates": {}}
    monkeypatch.setattr(energy_device, "measure", lambda *arguments: dict(report))
    out = tmp_path / "rates.json"
    argv = ["measure", "--data", str(tmp_path), "--device", "cpu", "--json", str(out)]
    main(argv)
    written = json.loads(out.read_text())
    threads = torch.get_num_threads()
    assert written["command"] == (
        f"OMP_NUM_THREADS={threads} python -m benchmarks.energy_device {shlex.join(argv)}"
    )
    assert written["torch_threads"] == threads
    assert {key: written[key] for key in report} == report
    assert [p.name for p in tmp_path.iterdir()] == ["rates.json"]  # no temporary left
