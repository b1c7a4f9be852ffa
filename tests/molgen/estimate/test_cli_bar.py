"""``molgen free-energy SAMPLES_B --perturb… --bar SAMPLES_C``: BAR between short OpenMM
runs of butane under the default and the CHARMM36-lipid parameters, with FEP both ways."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from cli.main import main
from systems.files import charmm_files
from tests.molgen.estimate.conftest import write_butane_samples

BAR_KEYS = {
    "samples_c",
    "n_c",
    "delta_f",
    "overlap",
    "fep_forward",
    "fep_reverse",
    "set_b",
    "set_c",
    "comparisons",
    "consistent",
}


@pytest.fixture
def two_sets(tmp_path, butane_md_frames, butane_lipid_md_frames) -> tuple[Path, Path]:
    """``(default, lipid)`` sample files of 450 MD frames each."""
    return (
        write_butane_samples(tmp_path / "default", butane_md_frames),
        write_butane_samples(tmp_path / "lipid", butane_lipid_md_frames),
    )


def _run(arguments: list[str], capsys) -> tuple[int, str, str]:
    status = main([str(a) for a in arguments])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _lipid_system(folder: Path) -> Path:
    """A system directory with the lipid psf/prm (and the shared minimised pdb)."""
    folder.mkdir()
    lipid = charmm_files("butane", "lipid")
    for source in (lipid.psf, lipid.prm, lipid.pdb):
        shutil.copy(source, folder / source.name)
    return folder


def test_bar_reports_three_estimates_and_flips_sign_when_the_sets_swap(two_sets, tmp_path, capsys):
    default, lipid = two_sets
    out = tmp_path / "bar.json"
    status, text, _ = _run(
        [
            "free-energy", default, "--system", "butane",
            "--perturb-system", "butane", "--variant", "lipid",
            "--bar", lipid, "--correlated", "--json", out,
        ],
        capsys,
    )  # fmt: skip
    # BAR is given. The state free energies under U_C are refused (three 30 ps chains that
    # cross between states once or twice hold a few effective frames per state; the
    # indicators decorrelate over ~50-70 frames), but no --states asked for them.
    assert status == 0, text
    assert "BAR" in text and "FEP forward (from B)" in text and "FEP reverse (from C)" in text
    report = json.loads(out.read_text())
    bar = report["bar"]
    assert set(bar) >= BAR_KEYS and report["trusted"]
    assert not any(e["trusted"] for e in report["perturbation"]["free_energies_variant"].values())
    assert bar["delta_f"]["trusted"] and bar["delta_f"]["sem_kT"] > 0
    # Decorrelated MD frames: fewer than given, as many as pymbar.timeseries leaves.
    for usage in (bar["set_b"], bar["set_c"]):
        assert usage["inefficiency"] >= 1 and usage["n_used"] == usage["n_decorrelated"] <= 450
    # The forward FEP is the --perturb estimate on the same frames.
    assert bar["fep_forward"]["delta_f"] == report["perturbation"]["delta_f"]

    swapped_out = tmp_path / "swapped.json"
    status, text, _ = _run(
        [
            "free-energy", lipid, "--system", _lipid_system(tmp_path / "lipid_system"),
            "--perturb", charmm_files("butane").psf, "--prm", charmm_files("butane").prm,
            "--bar", default, "--correlated", "--json", swapped_out,
        ],
        capsys,
    )  # fmt: skip
    assert status == 0, text
    swapped = json.loads(swapped_out.read_text())["bar"]
    assert swapped["delta_f"]["value_kT"] == pytest.approx(-bar["delta_f"]["value_kT"], abs=1e-9)
    assert swapped["delta_f"]["sem_kT"] == pytest.approx(bar["delta_f"]["sem_kT"], rel=1e-6)
    assert swapped["fep_reverse"]["delta_f"]["value_kT"] == pytest.approx(
        -bar["fep_forward"]["delta_f"]["value_kT"], abs=1e-9
    )


def test_weighted_samples_are_resampled_for_bar(two_sets, butane_md_frames, tmp_path, capsys):
    _, lipid = two_sets
    log_w = np.random.default_rng(3).normal(0.0, 0.5, len(butane_md_frames))
    weighted = write_butane_samples(tmp_path / "weighted", butane_md_frames, log_w)
    out = tmp_path / "bar.json"
    arguments = ["free-energy", weighted, "--system", "butane", "--perturb-system", "butane"]
    arguments += ["--variant", "lipid"]
    status, text, _ = _run([*arguments, "--bar", lipid, "--json", out], capsys)
    assert status == 0, text
    set_b = json.loads(out.read_text())["bar"]["set_b"]
    assert set_b["weighted"] and set_b["n_used"] == int(set_b["ess"]) < 450
    assert "resampled by weight" in text


def test_bad_bar_input_exits_2_with_one_line(two_sets, tmp_path, capsys):
    default, lipid = two_sets
    base = ["free-energy", default, "--system", "butane"]
    status, _, error = _run([*base, "--bar", lipid], capsys)
    assert status == 2 and "--bar needs the parameters of C" in error

    perturb = [*base, "--perturb-system", "butane", "--variant", "lipid"]
    status, _, error = _run([*perturb, "--bar", tmp_path / "missing.npz"], capsys)
    assert status == 2 and "missing.npz: samples file not found" in error

    import mdtraj

    frames = mdtraj.load(str(lipid.with_suffix("")), top=str(lipid.parent / "samples.pdb"))
    folder = tmp_path / "thirteen"
    folder.mkdir()
    frames.atom_slice(range(13)).save_dcd(str(folder / "samples.dcd"))
    frames[0].atom_slice(range(13)).save_pdb(str(folder / "samples.pdb"))
    np.savez(folder / "samples.dcd.npz", log_w=np.zeros(len(frames)))
    status, _, error = _run([*perturb, "--bar", folder / "samples.dcd"], capsys)
    assert status == 2 and "frames of 13 atoms, system butane has 14" in error

    dialanine = charmm_files("dialanine")
    status, _, error = _run(
        [*base, "--perturb", dialanine.psf, "--prm", dialanine.prm, "--bar", lipid], capsys
    )
    assert status == 2 and "22 atoms, but system butane has 14" in error

    few = write_butane_samples(tmp_path / "few", frames.xyz[:5].astype(np.float64))
    status, _, error = _run([*perturb, "--bar", few], capsys)
    assert status == 2 and "5 samples, BAR needs at least 10" in error
    assert "Traceback" not in error


def test_bar_samples_of_another_system_are_named_as_such(two_sets, tmp_path, capsys):
    """Weighted double-well samples used to be refused for their temperature, as if
    --temperature 300 had been given."""
    default, _ = two_sets
    toy = tmp_path / "toy.npz"
    rng = np.random.default_rng(0)
    arrays = {"log_w": rng.normal(size=20), "x": rng.normal(size=(20, 2)), "temperature": 1.0}
    np.savez(toy, **arrays, system="double_well_2d")
    perturb = ["free-energy", default, "--system", "butane", "--perturb-system", "butane"]
    perturb += ["--variant", "lipid"]
    status, _, error = _run([*perturb, "--bar", toy], capsys)
    assert status == 2
    assert "holds samples of double_well_2d (2 coordinates), not of butane's 42" in error
    assert "--temperature" not in error
