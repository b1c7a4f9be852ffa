"""``molgen sample``: the device and the output format are checked before any sampling, and
the outputs are readable by everyone."""

from __future__ import annotations

import sys

import pytest
import torch

from cli.main import main
from tests.molgen.butane_run import train_butane_run


def _two_step_butane_run(folder):
    """A two-step butane run (seconds) in ``folder``."""
    return train_butane_run(
        folder,
        frames=64,
        noise=0.005,
        seed=1,
        steps=2,
        batch_size=16,
        metrics={"every": 2, "samples": 16},
        flow={"standardize": True},
    )


@pytest.fixture(scope="module")
def butane_run(tmp_path_factory):
    """A two-step butane run shared by the tests that only read it."""
    return _two_step_butane_run(tmp_path_factory.mktemp("butane"))


def _sample(run, out, *options: str) -> int:
    return main(["sample", str(run), "-n", "8", "--out", str(out), "--no-progress", *options])


def test_h5_without_pytables_fails_before_sampling_leaving_nothing(
    butane_run, tmp_path, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "tables", None)  # import tables -> ImportError
    out = tmp_path / "samples" / "m4.h5"
    out.parent.mkdir()
    assert _sample(butane_run, out) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "writing .h5 needs PyTables (pip install tables)" in error
    assert list(out.parent.iterdir()) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_blames_the_device_not_the_checkpoint(butane_run, tmp_path, capsys):
    assert _sample(butane_run, tmp_path / "s.dcd", "--device", "cuda") == 2
    error = capsys.readouterr().err
    assert "--device: 'cuda' requested but CUDA is not available" in error
    assert "checkpoint" not in error


def test_an_unknown_device_is_named(butane_run, tmp_path, capsys):
    assert _sample(butane_run, tmp_path / "s.dcd", "--device", "gpu") == 2
    assert "--device: 'gpu' is not a device name" in capsys.readouterr().err


def test_out_naming_a_folder_is_refused(butane_run, tmp_path, capsys):
    assert _sample(butane_run, tmp_path) == 2
    assert f"--out: {tmp_path} is a folder" in capsys.readouterr().err


def test_trajectory_topology_and_sidecar_are_readable_by_everyone(butane_run, tmp_path):
    assert _sample(butane_run, tmp_path / "s.dcd") == 0
    for name in ("s.dcd", "s.pdb", "s.dcd.npz"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name


def test_existing_output_from_other_arguments_is_refused_and_kept(butane_run, tmp_path, capsys):
    out = tmp_path / "s.dcd"
    assert _sample(butane_run, out, "--seed", "1") == 0
    before = {name: (tmp_path / name).read_bytes() for name in ("s.dcd", "s.dcd.npz")}
    capsys.readouterr()
    assert _sample(butane_run, out, "--seed", "2") == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert str(out) in error and "pick another --out or delete it" in error
    # what changed, and only that (a retrained checkpoint would show as its step and hash)
    assert "(seed 1 → 2)" in error
    assert {name: (tmp_path / name).read_bytes() for name in before} == before


def test_existing_output_from_the_same_arguments_is_written_again(butane_run, tmp_path):
    out = tmp_path / "s.dcd"
    assert _sample(butane_run, out, "--seed", "1") == 0
    first = (tmp_path / "s.dcd.npz").read_bytes()
    assert _sample(butane_run, out, "--seed", "1") == 0
    assert (tmp_path / "s.dcd.npz").read_bytes() == first


def test_xtc_output_notes_its_rounding_which_is_what_mdtraj_reads_back(
    butane_run, tmp_path, capsys
):
    import mdtraj

    assert _sample(butane_run, tmp_path / "exact.dcd") == 0
    capsys.readouterr()
    assert _sample(butane_run, tmp_path / "rounded.xtc") == 0
    assert "stores coordinates to 0.001 nm" in capsys.readouterr().err
    exact = mdtraj.load(str(tmp_path / "exact.dcd"), top=str(tmp_path / "exact.pdb")).xyz
    rounded = mdtraj.load(str(tmp_path / "rounded.xtc"), top=str(tmp_path / "rounded.pdb")).xyz
    error = abs(rounded - exact).max()
    # Rounding to a 0.001 nm grid moves a coordinate by at most half a step (float32 adds
    # ~1e-7 nm at butane's coordinates of a few tenths of a nm).
    assert 0 < error <= 0.0005 + 1e-6


def test_a_call_killed_between_trajectory_and_sidecar_resumes(butane_run, tmp_path, monkeypatch):
    """The trajectory is written before the sidecar; a call killed in between leaves the
    trajectory without the sidecar that records its arguments, and the same call must then
    resume from its chunks (not refuse the trajectory as written with other arguments)."""
    import numpy as np

    import molgen.sampling.chunks as chunks

    out = tmp_path / "s.dcd"
    save = chunks.save_npz_atomic

    def killed_at_the_sidecar(path, arrays, **options):
        if path == tmp_path / "s.dcd.npz":
            raise KeyboardInterrupt
        return save(path, arrays, **options)

    monkeypatch.setattr(chunks, "save_npz_atomic", killed_at_the_sidecar)
    with pytest.raises(KeyboardInterrupt):
        chunks.sample_run(butane_run, 20, out, batch=8, seed=3, progress=False)
    assert out.is_file() and not (tmp_path / "s.dcd.npz").exists()
    monkeypatch.setattr(chunks, "save_npz_atomic", save)
    resumed = chunks.sample_run(butane_run, 20, out, batch=8, seed=3, progress=False)
    assert resumed.reused_chunks == 3
    whole = chunks.sample_run(butane_run, 20, tmp_path / "w.dcd", batch=8, seed=3, progress=False)
    with np.load(resumed.arrays) as a, np.load(whole.arrays) as b:
        for key in ("log_w", "energy", "modes"):
            np.testing.assert_array_equal(a[key], b[key])


def test_an_unrelated_pdb_beside_a_dcd_output_is_kept(butane_run, tmp_path, capsys):
    structure = tmp_path / "s.pdb"
    structure.write_text("REMARK   a structure of the user's\nEND\n")
    assert _sample(butane_run, tmp_path / "s.dcd") == 2
    assert f"--out: {structure} exists" in capsys.readouterr().err
    assert structure.read_text().startswith("REMARK   a structure of the user's")
    assert not (tmp_path / "s.dcd").exists()


def test_a_negative_seed_is_refused_before_anything_is_written(butane_run, tmp_path, capsys):
    # used to fail inside numpy's SeedSequence with a traceback, leaving a chunk folder
    assert _sample(butane_run, tmp_path / "s.dcd", "--seed", "-1") == 2
    assert "--seed: must satisfy 0 <= seed < 2**32" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_toy_run_notes_no_rounding_for_a_trajectory_it_does_not_write(tmp_path, capsys):
    import yaml

    from tests.molgen.training.tiny import tiny_config

    config = tiny_config()
    config["phases"] = config["phases"][:1]
    config["phases"][0]["steps"] = 2
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(config))
    run = tmp_path / "run"
    assert main(["train", str(tmp_path / "tiny.yaml"), "--out", str(run), "--no-progress"]) == 0
    capsys.readouterr()
    assert _sample(run, tmp_path / "s.xtc") == 0
    captured = capsys.readouterr()
    # a toy writes only s.xtc.npz: there is no s.xtc whose rounding could be noted
    assert "s.xtc.npz" in captured.out and "stores coordinates" not in captured.err
    assert not (tmp_path / "s.xtc").exists()


def test_chunks_of_a_checkpoint_that_was_since_replaced_are_not_reused(tmp_path, monkeypatch):
    """Retrained to the same step, ``final.pt`` has the same name and step but other
    weights: the chunks a killed call drew from the old one must be drawn again."""
    import molgen.sampling.chunks as chunks
    from molgen.training import load_checkpoint
    from molgen.training.checkpoints import save_checkpoint

    run = _two_step_butane_run(tmp_path)
    out = tmp_path / "s.dcd"
    save = chunks.save_npz_atomic
    written = []

    def killed_after_one_chunk(path, arrays, **options):
        if written:
            raise KeyboardInterrupt
        written.append(path)
        return save(path, arrays, **options)

    monkeypatch.setattr(chunks, "save_npz_atomic", killed_after_one_chunk)
    with pytest.raises(KeyboardInterrupt):
        chunks.sample_run(run, 16, out, batch=8, seed=3, progress=False)
    monkeypatch.setattr(chunks, "save_npz_atomic", save)
    final = run / "checkpoints" / "final.pt"
    payload = load_checkpoint(final)
    payload["model"] = {
        name: value * 1.01 if value.is_floating_point() else value
        for name, value in payload["model"].items()
    }
    save_checkpoint(final, payload)
    resumed = chunks.sample_run(run, 16, out, batch=8, seed=3, progress=False)
    assert resumed.reused_chunks == 0
