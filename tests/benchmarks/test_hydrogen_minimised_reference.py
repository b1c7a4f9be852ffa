"""``benchmarks.hydrogen_minimised_reference``: per-chain subsampling, output, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from benchmarks.hydrogen_minimised_reference import chain_subsample, main
from tests.benchmarks.butane_reference import write_butane_reference


def test_frames_are_taken_evenly_from_every_chain():
    chains = np.repeat([0, 1, 2], 7)
    np.testing.assert_array_equal(chain_subsample(chains, 9), [0, 3, 6, 7, 10, 13, 14, 17, 20])
    # a remainder is dropped so that every chain gives as many frames
    np.testing.assert_array_equal(chain_subsample(chains, 4), [0, 7, 14])
    with pytest.raises(ValueError, match="between 3 and 21"):
        chain_subsample(chains, 2)
    with pytest.raises(ValueError, match="chain by chain"):
        chain_subsample(np.array([0, 1, 0, 1]), 2)
    # contiguous chains of unequal length, not in label order
    np.testing.assert_array_equal(chain_subsample(np.array([1, 1, 1, 0]), 2), [0, 3])


def test_writes_populations_with_errors_and_the_effective_size(tmp_path, capsys):
    reference = write_butane_reference(tmp_path / "reference")
    out = tmp_path / "a2.json"
    assert main(["--reference", str(reference), "--frames", "8", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["command"].startswith(f"OMP_NUM_THREADS={torch.get_num_threads()} python -m ")
    assert result["command"].endswith(f"--frames 8 --out {out}")
    assert (result["frames"], result["chains"], result["frames_per_chain"]) == (8, 2, 4)
    assert result["system"] == "butane" and result["kernel"] == "internal"
    assert 1.0 <= result["kish_ess"] <= 8.0
    for key in ("populations", "unweighted_populations"):
        table = result[key]
        assert set(table) == {"gauche+", "trans", "gauche-"}
        assert sum(entry["mean"] for entry in table.values()) == pytest.approx(1.0)
        assert all(entry["sem"] >= 0.0 for entry in table.values())
    assert result["reference_populations"]["trans"] == {"mean": 0.6, "sem": 0.03}
    assert result["seconds"] > 0 and isinstance(result["warnings"], list)
    assert "Kish ESS" in capsys.readouterr().out


def test_bad_arguments_exit_with_a_message(tmp_path, capsys):
    reference = write_butane_reference(tmp_path / "reference")
    out = str(tmp_path / "a2.json")
    with pytest.raises(SystemExit) as error:
        main(["--reference", str(reference), "--frames", "1", "--out", out])
    assert error.value.code == 2 and "--frames 1" in capsys.readouterr().err
    (reference / "frames.npz").unlink()
    with pytest.raises(SystemExit) as error:
        main(["--reference", str(reference), "--frames", "4", "--out", out])
    assert error.value.code == 2 and "no frames.npz" in capsys.readouterr().err
