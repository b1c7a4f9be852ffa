"""The ``molgen jko`` command: contract outputs, reproducibility and typed errors."""

import json

from cli.main import main


def run_porous(tmp_path, name, seed):
    config = tmp_path / "small.yaml"
    config.write_text(
        "evaluation_samples: 500\nnetwork: {hidden: [8, 8]}\nflow: {cloud_size: 512}\n"
    )
    return main(
        [
            "jko",
            str(config),
            "--preset",
            "porous",
            "--dim",
            "1",
            "--seed",
            str(seed),
            "--steps",
            "2",
            "--iterations",
            "20",
            "--out",
            str(tmp_path / name),
            "--quiet",
        ]
    )


def test_contract_outputs_and_seed_reproducibility(tmp_path, capsys):
    assert run_porous(tmp_path, "a", seed=3) == 0
    assert run_porous(tmp_path, "b", seed=3) == 0
    first = json.loads((tmp_path / "a" / "metrics.json").read_text())
    second = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert first["preset"] == "porous" and first["dim"] == 1 and first["seconds"] > 0
    assert first["metrics"] == second["metrics"]
    for name in ("config.yaml", "steps.jsonl", "plots/marginals.png", "checkpoints/flow.pt"):
        assert (tmp_path / "a" / name).is_file()
    assert not list((tmp_path / "a").glob(".*"))  # no temporary files left behind


def test_bad_config_exits_2_with_field_name(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("preset: ou\nflow: {steps: -1}\n")
    assert main(["jko", str(config), "--out", str(tmp_path / "out")]) == 2
    assert "flow.steps" in capsys.readouterr().err


def test_butane_preset_needs_all_atoms(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["jko", "--preset", "butane", "--dim", "12", "--out", str(out)]) == 2
    assert "dim must be 42" in capsys.readouterr().err
    assert not out.exists()  # rejected before anything is written
    # Without configs/jko/butane.yaml the default start (std 4) would be 4 nm wide.
    assert main(["jko", "--preset", "butane", "--dim", "42", "--out", str(out)]) == 2
    assert "problem.initial_std" in capsys.readouterr().err


def test_flags_are_applied_before_the_checks_that_relate_fields(tmp_path, capsys):
    # The file alone (default preset ou) sets a porous-medium field; with --preset porous
    # the merged configuration is valid and runs.
    config = tmp_path / "porous_m3.yaml"
    config.write_text(
        "problem: {exponent: 3.0}\nevaluation_samples: 200\n"
        "network: {hidden: [8]}\nflow: {cloud_size: 256, steps: 1, iterations: 2}\n"
    )
    command = ["jko", str(config), "--preset", "porous", "--dim", "1", "--quiet"]
    assert main([*command, "--out", str(tmp_path / "run")]) == 0
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["preset"] == "porous"
    # A merged configuration that is invalid blames the file together with the flags.
    assert main(["jko", str(config), "--dim", "1", "--out", str(tmp_path / "bad")]) == 2
    error = capsys.readouterr().err
    assert f"{config} with --dim: problem.exponent" in error
    assert not (tmp_path / "bad").exists()
