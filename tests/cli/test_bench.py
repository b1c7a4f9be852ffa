"""``molgen bench energy``: option ranges, device names and the --json path, checked before
any timing, and the help of every option."""

from __future__ import annotations

import json

import pytest
import torch

from cli.main import main
from tests.reliability.cli_contract import assert_cli_rejects

ENERGY = ["bench", "energy", "--system", "butane", "--batch", "1", "--dtype", "float32"]


@pytest.mark.parametrize(("option", "value"), [("--threads", "0"), ("--openmm-frames", "-5")])
def test_non_positive_counts_are_usage_errors_naming_the_option(option, value, capsys):
    assert_cli_rejects([*ENERGY, option, value], capsys, [f"argument {option}: must be a positive"])


def test_an_unknown_device_is_one_line_naming_the_option(capsys):
    assert_cli_rejects([*ENERGY, "--device", "gpu"], capsys, ["--device: 'gpu' is not a device"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_says_so(capsys):
    assert main([*ENERGY, "--device", "cuda"]) == 2
    assert "--device: 'cuda' requested but CUDA is not available" in capsys.readouterr().err


def test_json_into_a_folder_fails_before_timing(tmp_path, capsys):
    assert main([*ENERGY, "--openmm-frames", "2", "--json", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and f"--json: {tmp_path} is a folder" in captured.err


def test_every_option_has_help_with_its_default(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "energy", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for expected in (
        "--batch BATCH comma-separated torch batch sizes (default 1,64,1024,4096)",
        "--device DEVICE cpu or cuda[:i] (default cpu)",
        "--openmm-frames OPENMM_FRAMES configurations per OpenMM timing repeat (default 2000)",
        "--seed SEED seed of the perturbations (default 0)",
        "--json JSON also write the results to this JSON file",
    ):
        assert expected in text


def test_json_results_are_readable_by_everyone(tmp_path):
    out = tmp_path / "bench.json"
    assert main([*ENERGY, "--openmm-frames", "2", "--json", str(out)]) == 0
    assert out.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("value", ["", ","])
def test_an_empty_dtype_list_is_refused_before_timing(value, capsys):
    # Used to run (OpenMM only) and write results without a single torch number.
    argv = ["bench", "energy", "--system", "butane", "--batch", "1", "--dtype", value]
    assert_cli_rejects(argv, capsys, ["--dtype: no dtype"])


def test_ratios_pair_each_torch_dtype_with_openmm_of_the_same_precision(tmp_path):
    out = tmp_path / "bench.json"
    argv = ["bench", "energy", "--system", "butane", "--batch", "1,4"]
    assert main([*argv, "--openmm-frames", "3", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    # OpenMM's Reference platform computes in double precision; its CPU platform cannot.
    assert result["openmm_precision"] == {"Reference": "double", "CPU": "single"}
    assert result["torch_threads"] == result["openmm_cpu_threads"] == 1
    for dtype, platform in (("float64", "Reference"), ("float32", "CPU")):
        entry = result["ratios"][dtype]
        assert entry["openmm"] == platform and entry["torch"] == dtype
        expected = result["torch"][dtype]["4"] / result["openmm"][platform]
        assert entry["ratio"] == pytest.approx(expected, rel=1e-12)
    assert "--threads 1" in result["command"] and "--batch 1,4" in result["command"]
    assert "ratio" not in result


@pytest.mark.parametrize("value", ["1,,2", "4,", ""])
def test_an_empty_batch_item_is_refused(value, capsys):
    # "1,,2" used to be read as 1,2
    argv = ["bench", "energy", "--system", "butane", "--batch", value]
    assert_cli_rejects(argv, capsys, ["argument --batch: expected comma-separated integers"])


def test_a_ratio_below_one_is_printed_with_its_digits(tmp_path, capsys):
    # batch 1 against OpenMM is well below 1x; one decimal printed it as "0.0x"
    out = tmp_path / "bench.json"
    assert main([*ENERGY, "--openmm-frames", "3", "--json", str(out)]) == 0
    ratio_line = next(line for line in capsys.readouterr().out.splitlines() if "ratio" in line)
    printed = float(ratio_line.rsplit(":", 1)[1].strip().rstrip("x"))
    ratio = json.loads(out.read_text())["ratios"]["float32"]["ratio"]
    assert 0 < ratio < 1
    assert printed == pytest.approx(ratio, rel=5e-3)  # three significant digits


@pytest.mark.parametrize(
    ("ratio", "text"), [(0.05123, "0.0512"), (6.849, "6.85"), (1234.5, "1234"), (12345.6, "12346")]
)
def test_ratios_print_without_an_exponent(ratio, text):
    from cli.bench import _ratio_text

    assert _ratio_text(ratio) == text
