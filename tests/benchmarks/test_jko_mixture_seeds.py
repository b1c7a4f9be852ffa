"""The seed-by-seed mixture table gathers benchmark reports and ``molgen jko`` runs, keeps
only the requested settings, and the GPU config is the benchmark's own."""

import argparse
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from benchmarks import jko as benchmark_jko
from benchmarks.jko_mixture_seeds import main
from forcefields.errors import InputFileError
from molgen.jko.config import config_from_dict, config_to_dict

ROOT = Path(__file__).resolve().parents[2]

LABEL = "JKO-ICNN (1000 it/step, 262144 particles, width 128x128)"


def write_report(path, rows, command="OMP_NUM_THREADS=1 python -m benchmarks.jko --dims 8"):
    path.write_text(json.dumps({"command": command, "summary": [], "runs": rows}))
    return path


def jko_row(dim, seed, symkl, method=LABEL):
    return {
        "preset": "mixture",
        "dim": dim,
        "seed": seed,
        "method": method,
        "symkl": symkl,
        "seconds": 100.0,
    }


def write_run(folder, dim, seed, symkl, iterations=1000, hidden=(128, 128), flow=None):
    folder.mkdir(parents=True)
    config = {
        "preset": "mixture",
        "dim": dim,
        "seed": seed,
        "device": "cuda",
        "network": {"hidden": list(hidden)},
        "flow": {"iterations": iterations, "cloud_size": 262144, **(flow or {})},
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    metrics = {
        "preset": "mixture",
        "dim": dim,
        "seconds": 50.0,
        "symkl": {"4": symkl},
        "hardware": "Some GPU",
    }
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def test_table_pools_reports_and_runs_with_the_same_settings(tmp_path):
    report = write_report(
        tmp_path / "r.json",
        [
            jko_row(8, 0, 0.30),
            jko_row(8, 0, 9.0, method="JKO-ICNN (1000 it/step, 262144 particles, width 256x256)"),
            {**jko_row(8, 0, 0.5), "method": "Euler-Maruyama"},
        ],
    )
    runs = [write_run(tmp_path / "a", 8, 2, 0.40), write_run(tmp_path / "b", 8, 3, 7.0, 200)]
    out = tmp_path / "table.md"
    main(["--reports", str(report), "--runs", *map(str, runs), "--out", str(out)])
    row = next(line for line in out.read_text().splitlines() if line.startswith("| 8 |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    # Only the width-128 report row and the 1000-update run count: mean 0.35, sd 0.0707.
    assert cells[1] == "2"
    assert "0 (CPU, 1 torch threads): 0.300" in cells[2] and "2 (Some GPU): 0.400" in cells[2]
    assert cells[3] == "0.350 ± 0.071"
    assert cells[5] == "0.396" and cells[6] == "-0.046"


def test_nothing_matching_is_an_error(tmp_path):
    report = write_report(tmp_path / "r.json", [jko_row(8, 0, 0.3)])
    with pytest.raises(InputFileError, match="no mixture runs"):
        main(["--reports", str(report), "--runs", "--iterations", "200", "--out", "x.md"])


def test_report_without_thread_prefix_is_refused(tmp_path):
    report = write_report(tmp_path / "r.json", [jko_row(8, 0, 0.3)], command="python -m x")
    with pytest.raises(InputFileError, match="OMP_NUM_THREADS"):
        main(["--reports", str(report), "--runs", "--out", str(tmp_path / "t.md")])


def test_gpu_config_is_the_benchmark_configuration_on_cuda():
    """configs/jko/mixture_gpu.yaml must run exactly what ``benchmarks.jko --presets mixture
    --iterations 1000 --cloud-size 262144`` runs, so that its seeds pool with the CPU's."""
    options = argparse.Namespace(
        iterations=1000,
        cloud_size=262144,
        hidden=None,
        late_learning_rate=None,
        late_from_step=21,
        no_anneal=False,
        device="cpu",
        mixture_key="",
    )
    expected = config_to_dict(benchmark_jko.benchmark_config("mixture", 12, 0, options))
    gpu = yaml.safe_load((ROOT / "configs/jko/mixture_gpu.yaml").open())
    assert gpu.pop("device") == "cuda"
    assert config_to_dict(config_from_dict({**gpu, "device": "cpu"})) == expected


def test_gpu_launcher_refuses_pairs_that_are_not_dim_colon_seed(tmp_path):
    result = subprocess.run(
        ["bash", str(ROOT / "benchmarks/jko_mixture_gpu.sh"), str(tmp_path / "runs"), "8:2", "8"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "8 is not DIM:SEED" in result.stderr
    assert not any((tmp_path / "runs").iterdir())


def test_finished_run_without_its_config_is_named(tmp_path):
    run = write_run(tmp_path / "a", 8, 2, 0.40)
    (run / "config.yaml").unlink()
    with pytest.raises(InputFileError, match="config.yaml"):
        main(["--reports", "--runs", str(run), "--out", str(tmp_path / "t.md")])


def test_published_mixtures_are_set_beside_the_published_value_on_each(tmp_path):
    label = "JKO-ICNN (500 it/step, 262144 particles, width 128x128)"
    rows = [
        {**jko_row(2, 0, 0.0828, method=label), "mixture_key": "published"},
        {**jko_row(2, 1, 0.0404, method=label), "mixture_key": "published"},
        # the same seed on a mixture drawn from the seed alone is another mixture: left out
        jko_row(2, 2, 9.0, method=label),
    ]
    report = write_report(tmp_path / "r.json", rows)
    out = tmp_path / "table.md"
    argv = ["--reports", str(report), "--runs", "--iterations", "500", "--out", str(out)]
    main([*argv, "--mixture-key", "published"])
    table = out.read_text()
    # Published SymKL on mixtures 0 and 1 of D = 2 (their results files): 0.1028, 0.0144.
    assert "| 2 | 0 | 0.083 | 0.103 | -0.020 |" in table
    assert "| 2 | 1 | 0.040 | 0.014 | +0.026 |" in table
    # Differences -0.0200 and +0.0260: mean 0.003, sd 0.0325, standard error 0.0230.
    assert "D = 2: mean difference +0.003 ± 0.023 (standard error) over 2 mixtures" in table
    assert "published mean on them 0.059." in table
    with pytest.raises(InputFileError, match="no mixture runs"):
        main([*argv, "--mixture-key", "venus"])


def test_a_published_mixture_run_twice_is_refused_in_the_paired_comparison(tmp_path):
    label = "JKO-ICNN (500 it/step, 262144 particles, width 128x128)"
    row = {**jko_row(2, 0, 0.08, method=label), "mixture_key": "venus"}
    first = write_report(tmp_path / "a.json", [row])
    second = write_report(tmp_path / "b.json", [{**row, "symkl": 0.09}])
    argv = ["--reports", str(first), str(second), "--runs", "--iterations", "500"]
    # "venus" is the published D = 2 key spelled out: the same mixtures as "published".
    with pytest.raises(InputFileError, match="seed 0: given twice"):
        main([*argv, "--mixture-key", "venus", "--out", str(tmp_path / "t.md")])


def test_a_single_run_has_no_spread_rather_than_nan(tmp_path):
    report = write_report(tmp_path / "r.json", [jko_row(8, 0, 0.30)])
    out = tmp_path / "table.md"
    main(["--reports", str(report), "--runs", "--out", str(out)])
    row = next(line for line in out.read_text().splitlines() if line.startswith("| 8 |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[3] == "0.300 ± n/a" and cells[4] == "n/a"
    assert "nan" not in out.read_text()


def test_one_mixture_given_twice_is_refused_not_counted_twice(tmp_path):
    # Three copies of one run would count as three seeds and shrink the standard error.
    run = write_run(tmp_path / "d8_s2", 8, 2, 0.40)
    report = write_report(tmp_path / "r.json", [jko_row(8, 0, 0.30)])
    argv = ["--reports", str(report), "--runs", str(run), str(run), "--out", str(tmp_path / "t")]
    with pytest.raises(InputFileError, match="dimension 8, seed 2: given twice"):
        main(argv)


def test_run_folders_of_another_width_or_schedule_are_left_out_like_report_rows(tmp_path):
    kept = write_run(tmp_path / "kept", 8, 2, 0.40)
    wide = write_run(tmp_path / "wide", 8, 3, 9.0, hidden=(256, 256))
    late = write_run(tmp_path / "late", 8, 4, 9.0, flow={"late_learning_rate": 1e-3})
    constant = write_run(tmp_path / "constant", 8, 5, 9.0, flow={"anneal": False})
    report = write_report(tmp_path / "r.json", [jko_row(8, 0, 0.30)])
    out = tmp_path / "table.md"
    runs = [str(kept), str(wide), str(late), str(constant)]
    main(["--reports", str(report), "--runs", *runs, "--out", str(out)])
    row = next(line for line in out.read_text().splitlines() if line.startswith("| 8 |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == "2" and cells[3] == "0.350 ± 0.071"
