"""The plain OpenMM Langevin butane benchmark: its stats.json, its comparison, its errors."""

from __future__ import annotations

import json
import math

import pytest

from benchmarks.openmm_langevin_butane import (
    compare_populations,
    comparison_table,
    main,
    make_context,
)
from forcefields.errors import ConfigError, InputFileError
from systems.reference.targets import reference_target

MODES = {"gauche+", "trans", "gauche-"}
CONTRACT_KEYS = {
    "system",
    "temperature",
    "engine",
    "n_trajectories",
    "burn_in_ps",
    "time_ps_per_trajectory",
    "populations",
    "energy",
    "wall_time_s",
    "cpu_time_s",
    "command",
}
# Two 2 ps trajectories after 1 ps of burn-in, one frame every 10 fs: 6000 Reference steps,
# well under a second; the physics is not checked here (the real run is the benchmark).
TINY = ["--trajectories", "2", "--burn-in", "1", "--time", "2", "--stride", "10"]


@pytest.fixture(scope="module")
def reference_file(tmp_path_factory):
    """A made-up reference stats.json with nonzero errors, so z is finite."""
    path = tmp_path_factory.mktemp("reference") / "stats.json"
    populations = {
        "gauche+": {"mean": 0.2, "sem": 0.02},
        "trans": {"mean": 0.6, "sem": 0.03},
        "gauche-": {"mean": 0.2, "sem": 0.02},
    }
    path.write_text(json.dumps({"populations": populations, "energy": {"mean": 63, "sem": 0.5}}))
    return path


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, reference_file):
    out = tmp_path_factory.mktemp("openmm_langevin")
    argv = ["--out", str(out), *TINY, "--platform", "Reference", "--no-progress"]
    returned = main([*argv, "--compare", str(reference_file)])
    return returned, json.loads((out / "stats.json").read_text())


def test_stats_follow_the_contract(tiny_run):
    returned, stats = tiny_run
    assert CONTRACT_KEYS <= set(stats)
    assert stats["engine"] == "openmm-langevin" and stats["system"] == "butane"
    assert stats["n_trajectories"] == 2 and stats["n_frames_per_trajectory"] == 200
    assert stats["temperature"] == 300.0
    assert stats["command"].startswith("python -m benchmarks.openmm_langevin_butane --out ")
    assert "--trajectories 2" in stats["command"]
    assert set(stats["populations"]) == MODES
    # Each trajectory's fractions are counts over 200 frames and sum to 1 exactly up to
    # float rounding (~1e-16); their mean over trajectories does too.
    assert sum(p["mean"] for p in stats["populations"].values()) == pytest.approx(1.0, abs=1e-12)
    for value in [*stats["populations"].values(), stats["energy"]]:
        assert math.isfinite(value["sem"]) and value["sem"] >= 0.0
    # 14 atoms at 300 K: 3N/2 kT alone is ~52 kJ/mol; an energy off by orders of
    # magnitude means a unit or platform mix-up.
    assert 20.0 < stats["energy"]["mean"] < 150.0
    for fractions in stats["per_trajectory"]["populations"]:
        assert sum(fractions) == pytest.approx(1.0, abs=1e-12)
    assert returned["populations"] == stats["populations"]


def test_comparison_is_consistent_with_the_numbers(tiny_run, reference_file):
    _, stats = tiny_run
    comparison = stats["comparison"]
    assert comparison["reference"] == str(reference_file)
    reference = json.loads(reference_file.read_text())
    for mode in MODES:
        row = comparison["populations"][mode]
        mine, theirs = stats["populations"][mode], reference["populations"][mode]
        difference = mine["mean"] - theirs["mean"]
        combined = math.hypot(mine["sem"], theirs["sem"])
        # The same arithmetic on the same floats after a JSON round trip (repr is exact):
        # only the order of operations may differ, hence 1e-12.
        assert row["difference"] == pytest.approx(difference, abs=1e-12)
        assert row["combined_sem"] == pytest.approx(combined, rel=1e-12)
        assert row["z"] == pytest.approx(difference / combined, rel=1e-12)
    energy = comparison["energy"]
    assert energy["z"] == pytest.approx(energy["difference"] / energy["combined_sem"], rel=1e-12)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--trajectories", "0"),
        ("--trajectories", "1"),
        ("--time", "0"),
        ("--stride", "-10"),
        # 200.5 strides of 10 fs: rounding would record 2.005 ps but simulate 2.0 or 2.01
        ("--time", "2.005"),
    ],
)
def test_bad_options_raise_a_config_error_naming_them(tmp_path, option, value):
    argv = ["--out", str(tmp_path), *TINY, option, value, "--no-progress"]
    with pytest.raises(ConfigError, match=option):
        main(argv)
    assert not (tmp_path / "stats.json").exists()


def test_missing_compare_file_is_an_input_file_error(tmp_path):
    argv = ["--out", str(tmp_path), *TINY, "--compare", str(tmp_path / "missing.json")]
    with pytest.raises(InputFileError, match="--compare"):
        main(argv)
    assert not (tmp_path / "stats.json").exists()


def test_compare_file_without_populations_is_an_input_file_error(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"populations": {"trans": {"mean": 0.6}}}))
    with pytest.raises(InputFileError, match="populations"):
        main(["--out", str(tmp_path), *TINY, "--compare", str(broken)])


def test_cpu_platform_runs_on_one_thread_or_falls_back_to_reference():
    context, _ = make_context(reference_target("butane"), "CPU", (1, 2))
    platform = context.getPlatform()
    assert platform.getName() in ("CPU", "Reference")
    if platform.getName() == "CPU":
        assert platform.getPropertyValue(context, "Threads") == "1"


def test_comparison_table_prints_n_a_where_the_reference_error_is_not_finite():
    """A reference sem of NaN leaves difference, combined error and z undefined (None);
    the table, printed after the whole run and before stats.json is written, must not
    crash on them."""
    stats = {"populations": {"trans": {"mean": 0.6, "sem": 0.01}}, "energy": {}}
    reference = {"populations": {"trans": {"mean": 0.62, "sem": float("nan")}}}
    comparison = compare_populations(stats, reference, "ref.json")
    assert comparison["populations"]["trans"]["difference"] is None
    line = comparison_table(comparison).splitlines()[-1]
    assert line.split()[-3:] == ["n/a", "n/a", "n/a"]
