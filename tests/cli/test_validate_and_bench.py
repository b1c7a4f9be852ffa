"""The validate-ff and bench energy commands keep their JSON contracts."""

import json

from cli.main import main


def test_validate_ff_writes_the_contract_and_passes(tmp_path, capsys):
    out = tmp_path / "report.json"
    status = main(["validate-ff", "--system", "butane", "--frames", "20", "--json", str(out)])
    report = json.loads(out.read_text())
    assert status == 0
    assert report["frames"] == 20 and report["dtype"] == "float64"
    assert set(report["terms"]) == {
        "bond",
        "angle",
        "urey_bradley",
        "dihedral",
        "improper",
        "cmap",
        "lj",
        "coulomb",
    }
    assert {"max_abs", "max_rel"} <= set(report["total"]) and report["passed"] is True
    assert "passed" in capsys.readouterr().out


def test_validate_ff_exits_1_when_a_tolerance_is_exceeded(tmp_path):
    # A tolerance below float32 round-off cannot be met: the check must fail, not pass silently.
    status = main(
        [
            "validate-ff",
            "--system",
            "butane",
            "--frames",
            "5",
            "--dtype",
            "float32",
            "--tolerance",
            "1e-12",
        ]
    )
    assert status == 1


def test_validate_ff_reads_a_trajectory_for_user_files(tmp_path):
    import systems

    butane = systems.load("butane")
    status = main(
        [
            "validate-ff",
            "--psf",
            str(butane.psf),
            "--prm",
            str(butane.prm[0]),
            "--traj",
            str(butane.pdb),
            "--top",
            str(butane.pdb),
        ]
    )
    assert status == 0


def test_bench_energy_writes_the_contract(tmp_path):
    out = tmp_path / "bench.json"
    status = main(
        [
            "bench",
            "energy",
            "--system",
            "butane",
            "--batch",
            "1,8",
            "--dtype",
            "float32",
            "--openmm-frames",
            "20",
            "--json",
            str(out),
        ]
    )
    result = json.loads(out.read_text())
    assert status == 0
    assert result["batch"] == [1, 8]
    assert set(result["torch"]["float32"]) == {"1", "8"}
    assert set(result["openmm"]) == {"Reference", "CPU"}
    # float32 only: its ratio is over the single-precision CPU platform, and there is
    # no float64 ratio.
    assert set(result["ratios"]) == {"float32"}
    expected = result["torch"]["float32"]["8"] / result["openmm"]["CPU"]
    assert abs(result["ratios"]["float32"]["ratio"] - expected) < 1e-9 * expected


def test_unknown_system_exits_2(capsys):
    assert main(["validate-ff", "--system", "propane"]) == 2
    assert "propane" in capsys.readouterr().err
