"""``molgen sample``: the device and the output format are checked before any sampling, the
outputs are readable by everyone, damaged chunks and existing outputs are named, and a
diverged generator is warned about."""

from __future__ import annotations

import json
import shutil
import sys

import numpy as np
import pytest
import torch
import yaml

from cli.main import main
from systems.trajectories import read_frames
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


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    """A two-step double-well run (seconds), trained by ``molgen train``."""
    from tests.molgen.training.tiny import tiny_config

    folder = tmp_path_factory.mktemp("toy")
    config = tiny_config()
    config["phases"] = config["phases"][:1]
    config["phases"][0]["steps"] = 2
    (folder / "tiny.yaml").write_text(yaml.safe_dump(config))
    run = folder / "run"
    assert main(["train", str(folder / "tiny.yaml"), "--out", str(run), "--no-progress"]) == 0
    return run


def _sample(run, out, *options: str) -> int:
    return main(["sample", str(run), "-n", "8", "--out", str(out), "--no-progress", *options])


def _arrays(path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


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


@pytest.mark.parametrize("name", ["s.xtc", "s.dcd", "s.txt"])
def test_a_toy_run_refuses_an_out_that_is_not_npz_and_writes_nothing(
    toy_run, tmp_path, capsys, name
):
    # used to write s.xtc.npz silently, where a molecule refuses an .npz --out
    out = tmp_path / "samples" / name
    assert _sample(toy_run, out) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "stores coordinates" not in captured.err
    assert f"--out: {out}: a toy system writes only an .npz" in captured.err
    assert f"name it {tmp_path / 'samples' / 's.npz'}" in captured.err
    assert not out.parent.exists()


def test_a_toy_run_writes_npz_or_appends_it_to_a_name_without_suffix(toy_run, tmp_path, capsys):
    assert _sample(toy_run, tmp_path / "a.npz") == 0
    assert _sample(toy_run, tmp_path / "b") == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.npz", "b.npz"]
    # a healthy generator's samples are finite: no warning
    assert "warning" not in capsys.readouterr().err


def _kill_after_chunks(monkeypatch, count: int) -> None:
    """Make ``molgen.sampling.chunks`` raise ``KeyboardInterrupt`` after ``count`` saves."""
    import molgen.sampling.chunks as chunks

    save = chunks.save_npz_atomic
    saved = []

    def killed(path, arrays, **options):
        if len(saved) == count:
            raise KeyboardInterrupt
        saved.append(path)
        return save(path, arrays, **options)

    monkeypatch.setattr(chunks, "save_npz_atomic", killed)


def _overwrite_with_text(chunk) -> None:
    chunk.write_bytes(b"damaged!")


def _truncate(chunk) -> None:
    data = chunk.read_bytes()
    assert len(data) > 1000
    chunk.write_bytes(data[:1000])


@pytest.mark.parametrize("damage", [_overwrite_with_text, _truncate])
def test_a_damaged_chunk_is_named_and_drawn_again_to_the_same_samples(
    butane_run, tmp_path, monkeypatch, capsys, damage
):
    """An interrupted call leaves chunks; one damaged since used to stop every later call
    with a traceback (pickled data, BadZipFile). A sample depends only on the seed and its
    index, so the chunk drawn again holds what the uninterrupted call drew."""
    import molgen.sampling.chunks as chunks

    out = tmp_path / "r.dcd"
    options = ["-n", "24", "--batch", "8", "--seed", "3", "--no-progress"]
    _kill_after_chunks(monkeypatch, 2)
    assert main(["sample", str(butane_run), "--out", str(out), *options]) == 130
    monkeypatch.undo()
    chunk = tmp_path / ".r.dcd.parts" / "chunk_000001.npz"
    damage(chunk)
    capsys.readouterr()
    assert main(["sample", str(butane_run), "--out", str(out), *options]) == 0
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert f"molgen sample: warning: {chunk}: unreadable" in error
    assert "drawing its samples again" in error
    whole = chunks.sample_run(butane_run, 24, tmp_path / "w.dcd", batch=8, seed=3, progress=False)
    resumed, expected = _arrays(tmp_path / "r.dcd.npz"), _arrays(whole.arrays)
    assert resumed.keys() == expected.keys()
    for key in expected:
        np.testing.assert_array_equal(resumed[key], expected[key], err_msg=key)
    # the coordinates, not the bytes: a DCD header records the minute it was written
    frames = [read_frames(tmp_path / name, tmp_path / "r.pdb") for name in ("r.dcd", "w.dcd")]
    np.testing.assert_array_equal(*frames)
    assert not chunk.parent.exists()


def test_only_readable_chunks_count_as_reused(butane_run, tmp_path, monkeypatch):
    import molgen.sampling.chunks as chunks

    out = tmp_path / "r.dcd"
    _kill_after_chunks(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        chunks.sample_run(butane_run, 24, out, batch=8, seed=3, progress=False)
    monkeypatch.undo()
    chunk = tmp_path / ".r.dcd.parts" / "chunk_000000.npz"
    _overwrite_with_text(chunk)
    with pytest.warns(RuntimeWarning, match=f"^{chunk}: unreadable"):
        resumed = chunks.sample_run(butane_run, 24, out, batch=8, seed=3, progress=False)
    assert resumed.reused_chunks == 1


def _nan_run(run, folder):
    """A copy of ``run`` in ``folder`` whose final weights are all NaN (a diverged training;
    ``save_checkpoint`` refuses them, so the file is written by ``torch.save``)."""
    copy = folder / "nan_run"
    shutil.copytree(run, copy)
    final = copy / "checkpoints" / "final.pt"
    payload = torch.load(final, weights_only=True)
    payload["model"] = {
        name: torch.full_like(value, torch.nan) if value.is_floating_point() else value
        for name, value in payload["model"].items()
    }
    torch.save(payload, final)
    return copy


def test_a_diverged_generator_is_warned_about_with_the_finite_fraction(toy_run, tmp_path, capsys):
    out = tmp_path / "nan.npz"
    assert _sample(_nan_run(toy_run, tmp_path), out) == 0
    captured = capsys.readouterr()
    assert f"wrote {out}" in captured.out
    assert captured.err.count("\n") == 1
    assert f"molgen sample: warning: {out}: 0 of 8 samples (0.00%) have finite" in captured.err
    assert "diverge" in captured.err
    assert np.isnan(_arrays(out)["x"]).all()


def _write_empty(out) -> None:
    out.write_bytes(b"")


def _write_truncated(out) -> None:
    np.savez(out, arguments=np.array(json.dumps({"seed": 0})), x=np.zeros((64, 12)))
    out.write_bytes(out.read_bytes()[:500])


def _write_arguments_list(out) -> None:
    np.savez(out, arguments=np.array("[1, 2]"))


@pytest.mark.parametrize(
    ("write", "problem"),
    [
        (_write_empty, "exists but is empty"),
        (_write_truncated, "exists but is not a readable .npz (BadZipFile"),
        (_write_arguments_list, "exists but records its arguments unreadably"),
    ],
)
def test_an_unreadable_existing_npz_is_refused_as_such_and_kept(
    toy_run, tmp_path, capsys, write, problem
):
    out = tmp_path / "s.npz"
    write(out)
    before = out.read_bytes()
    assert _sample(toy_run, out) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert f"--out: {out} {problem}" in error and "pick another --out or delete it" in error
    assert "records none" not in error
    assert out.read_bytes() == before


def test_a_trajectory_whose_sidecar_was_deleted_is_refused_naming_the_sidecar(
    butane_run, tmp_path, capsys
):
    out = tmp_path / "m.dcd"
    assert _sample(butane_run, out) == 0
    (tmp_path / "m.dcd.npz").unlink()
    before = out.read_bytes()
    capsys.readouterr()
    assert _sample(butane_run, out) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert f"--out: {out} exists but {out}.npz, which would record its arguments, is missing" in (
        error
    )
    assert out.read_bytes() == before and not (tmp_path / "m.dcd.npz").exists()


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


def test_only_the_sampling_warnings_are_reworded(capsys):
    """The chunk and finiteness warnings (raised at cli/sample.py's call of sample_run) are
    one line; any other warning keeps its category and source for the default printer."""
    import cli.sample

    handed_on = []
    show = cli.sample._warning_printer(lambda *args: handed_on.append(args))
    show("chunk_000001.npz: unreadable", RuntimeWarning, cli.sample.__file__, 70)
    assert capsys.readouterr().err == "molgen sample: warning: chunk_000001.npz: unreadable\n"
    show("a torch deprecation", UserWarning, cli.sample.__file__, 70)
    show("numpy overflow", RuntimeWarning, np.__file__, 1)
    assert [args[1] for args in handed_on] == [UserWarning, RuntimeWarning]
    assert capsys.readouterr().err == ""
