"""``molgen sample``: reproducible chunked draws, consistent per-sample arrays, file formats."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mdtraj
import numpy as np
import pytest
import torch

import systems
from molgen.sampling import load_run, sample_run, write_trajectory_atomic
from molgen.sampling.chunks import CHUNK_VERSION
from molgen.sampling.generator import draw_samples
from molgen.training import config_from_mapping, train
from molgen.training.checkpoints import CheckpointError
from tests.molgen.butane_run import train_butane_run
from tests.molgen.training.tiny import tiny_config


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("toy") / "run"
    mapping = tiny_config(metrics={"every": 4, "samples": 0})
    mapping["phases"][0]["steps"] = mapping["phases"][1]["steps"] = 4
    train(config_from_mapping(mapping), run_dir, progress=False)
    return run_dir


def _arrays(path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def test_same_seed_gives_the_same_file_and_other_seeds_differ(toy_run, tmp_path):
    first = sample_run(toy_run, 2500, tmp_path / "a.npz", batch=1000, seed=1, progress=False)
    again = sample_run(toy_run, 2500, tmp_path / "b", batch=1000, seed=1, progress=False)
    other = sample_run(toy_run, 2500, tmp_path / "c.npz", batch=1000, seed=2, progress=False)
    assert again.arrays == tmp_path / "b.npz"
    a, b, c = _arrays(first.arrays), _arrays(again.arrays), _arrays(other.arrays)
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    assert not np.allclose(a["x"], c["x"])
    assert not any(path.name.endswith(".parts") for path in tmp_path.iterdir())


def test_chunk_size_does_not_change_the_latents(toy_run, tmp_path):
    small = _arrays(
        sample_run(toy_run, 1500, tmp_path / "s.npz", batch=300, seed=4, progress=False).arrays
    )
    large = _arrays(
        sample_run(toy_run, 1500, tmp_path / "l.npz", batch=1500, seed=4, progress=False).arrays
    )
    # Same latents and weights; only float32 round-off of differently blocked matrix
    # products can differ (relative 1e-6 of values of order 10).
    np.testing.assert_allclose(small["x"], large["x"], rtol=1e-5, atol=1e-5)


def test_per_sample_arrays_are_consistent(toy_run, tmp_path):
    arrays = _arrays(
        sample_run(toy_run, 1000, tmp_path / "s.npz", batch=400, seed=0, progress=False).arrays
    )
    x = torch.from_numpy(arrays["x"])
    assert x.shape == (1000, 12)
    well = systems.load("double_well_medium")
    energy = well.toy_energy.double()(x.double()).numpy()
    np.testing.assert_allclose(arrays["energy"], energy, rtol=1e-12)
    np.testing.assert_allclose(arrays["u_b"], well.beta * energy, rtol=1e-12)
    np.testing.assert_allclose(arrays["log_w"], -arrays["u_b"] - arrays["log_p_g"], rtol=1e-12)
    assert np.array_equal(arrays["log_prob"], arrays["log_p_g"])
    assert np.array_equal(arrays["modes"], (arrays["x"][:, 0] > 0).astype(np.int64))
    assert np.array_equal(arrays["x0"], arrays["x"][:, 0].astype(np.float64))
    assert list(arrays["mode_names"]) == ["major", "minor"]
    assert str(arrays["system"]) == "double_well_medium"
    # drawn at the system's default temperature (a toy records its factor 1/β)
    assert float(arrays["temperature"]) == pytest.approx(1 / well.beta, rel=1e-15)
    assert "log_z_align" not in arrays
    run = load_run(toy_run)
    with torch.no_grad():
        inverse = run.flow.log_prob(x).double().numpy()
    # log p_G by the forward pass equals the inverse pass up to float32 round-off
    np.testing.assert_allclose(arrays["log_p_g"], inverse, atol=1e-3)


@pytest.mark.slow  # a CLI subprocess: 10-60 s on a shared 2-core machine
def test_killed_sampling_resumes_from_its_chunks(toy_run, tmp_path):
    out = tmp_path / "k.npz"
    parts = tmp_path / ".k.npz.parts"
    command = [
        sys.executable,
        "-m",
        "cli.main",
        "sample",
        str(toy_run),
        "-n",
        "20000",
        "--batch",
        "100",
        "--seed",
        "5",
        "--out",
        str(out),
        "--no-progress",
    ]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    log = tmp_path / "killed.log"
    with log.open("w") as handle:
        process = subprocess.Popen(command, env=environment, stdout=handle, stderr=handle)
    deadline = time.time() + 60
    while time.time() < deadline and len(list(parts.glob("chunk_*.npz"))) < 3:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    written = len(list(parts.glob("chunk_*.npz")))
    assert written >= 3 and not out.exists(), log.read_text()
    assert json.loads((parts / "manifest.json").read_text())["seed"] == 5
    resumed = sample_run(toy_run, 20000, out, batch=100, seed=5, progress=False)
    assert resumed.reused_chunks >= written - 1  # a chunk being renamed at the kill may be lost
    whole = sample_run(toy_run, 20000, tmp_path / "w.npz", batch=100, seed=5, progress=False)
    assert whole.reused_chunks == 0
    a, b = _arrays(out), _arrays(whole.arrays)
    for key in a:
        assert np.array_equal(a[key], b[key]), key


def test_chunks_of_another_version_are_not_reused(toy_run, tmp_path):
    """Chunks left by an older molgen (other arrays, other alignment rotations) with an
    otherwise matching manifest are redrawn, not mixed into the output."""
    run = load_run(toy_run)
    parts = tmp_path / ".v.npz.parts"
    parts.mkdir()
    manifest = {
        "run": str(Path(toy_run).resolve()),
        "checkpoint": str(run.checkpoint.resolve()),
        "step": run.step,
        "seed": 6,
        "n": 200,
        "batch": 100,
        "version": CHUNK_VERSION - 1,
    }
    (parts / "manifest.json").write_text(json.dumps(manifest))
    np.savez(parts / "chunk_000000.npz", x=np.zeros((100, 12)), log_w=np.zeros(100))
    result = sample_run(toy_run, 200, tmp_path / "v.npz", batch=100, seed=6, progress=False)
    assert result.reused_chunks == 0
    fresh = sample_run(toy_run, 200, tmp_path / "f.npz", batch=100, seed=6, progress=False)
    a, b = _arrays(result.arrays), _arrays(fresh.arrays)
    for key in b:
        assert np.array_equal(a[key], b[key]), key


@pytest.mark.parametrize("name", ["t.dcd", "t.h5"])
def test_trajectory_writer_is_readable_by_mdtraj(tmp_path, name):
    if name.endswith(".h5"):
        pytest.importorskip("tables", reason="mdtraj writes .h5 through PyTables")
    butane = systems.load("butane")
    noise = np.random.default_rng(0).normal(size=(5, butane.n_atoms, 3))
    frames = butane.positions[None] + 0.01 * noise
    written = write_trajectory_atomic(tmp_path / name, frames, butane.topology)
    if name.endswith(".dcd"):
        assert written == [tmp_path / name, tmp_path / "t.pdb"]
        loaded = mdtraj.load(str(written[0]), top=str(written[1]))
    else:
        loaded = mdtraj.load(str(written[0]))
    assert loaded.n_frames == 5 and loaded.n_atoms == butane.n_atoms
    # stored as float32 (dcd in Angstrom): agreement to float32 precision
    np.testing.assert_allclose(loaded.xyz, frames, atol=1e-5)


def test_molecule_run_samples_to_trajectory_and_sidecar(tmp_path):
    butane = systems.load("butane")
    train_butane_run(
        tmp_path,
        frames=256,
        noise=0.005,
        seed=1,
        steps=2,
        batch_size=16,
        metrics={"every": 2, "samples": 16},
        flow={"standardize": True},
    )
    out = tmp_path / "samples.dcd"
    result = sample_run(tmp_path / "run", 40, out, batch=16, seed=0, progress=False)
    assert [p.name for p in result.files] == ["samples.dcd", "samples.pdb", "samples.dcd.npz"]
    frames = mdtraj.load(str(out), top=str(tmp_path / "samples.pdb"))
    assert frames.n_frames == 40 and frames.n_atoms == butane.n_atoms
    arrays = _arrays(result.arrays)
    assert "x" not in arrays and set(arrays["modes"]) <= {0, 1, 2}
    energy = butane.energy()(torch.from_numpy(frames.xyz.astype(np.float64))).numpy()
    # frames come back from float32 Angstrom storage; energies agree to that precision
    np.testing.assert_allclose(arrays["energy"], energy, rtol=1e-3)
    np.testing.assert_allclose(arrays["u_b"], butane.beta * arrays["energy"], rtol=1e-12)
    assert arrays["dihedral"].shape == (40,)
    assert float(arrays["temperature"]) == butane.temperature


RIGID = {"mode": "rigid", "atoms": "heavy"}
THESIS = {"mode": "thesis", "atoms": "heavy"}


def _train_aligned_butane(folder: Path, seed: int, align: dict = RIGID) -> Path:
    """A two-step butane run with ``align`` alignment on noisy copies of the minimum:
    internal coordinates with flow hydrogens for ``RIGID``, Cartesian coordinates
    otherwise (internal coordinates need rigid alignment). Returns the run directory."""
    return train_butane_run(
        folder,
        frames=128,
        noise=0.003,
        seed=seed,
        steps=2,
        batch_size=16,
        metrics={"every": 2, "samples": 16},
        flow={
            "standardize": True,
            "hydrogens": "flow",
            "hydrogen_width": 8,
            "hydrogen_repeats": 1,
            "coordinates": "internal" if align == RIGID else "cartesian",
        },
        align=align,
    )


def test_aligned_run_reports_the_physical_energy_and_weights(tmp_path):
    butane = systems.load("butane")
    run = _train_aligned_butane(tmp_path, seed=2)
    result = sample_run(run, 24, tmp_path / "s.dcd", batch=8, seed=0, progress=False)
    arrays = _arrays(result.arrays)
    frames = torch.from_numpy(
        mdtraj.load(str(tmp_path / "s.dcd"), top=str(tmp_path / "s.pdb")).xyz.astype(np.float64)
    )
    physical = butane.energy()(frames).numpy()
    aligned_energy = butane.energy(dtype=torch.float64, align=RIGID)
    penalty = aligned_energy.alignment(frames).numpy()
    # float32 Angstrom storage of the frames limits agreement to ~1e-3 relative.
    np.testing.assert_allclose(arrays["energy"], physical, rtol=1e-3)
    np.testing.assert_allclose(arrays["u_b"], butane.beta * (physical + penalty), rtol=1e-3)
    log_z = float(aligned_energy.alignment.log_z_align(frames[:1], butane.beta)[0])
    np.testing.assert_allclose(arrays["log_z_align"], log_z, rtol=1e-12)
    np.testing.assert_allclose(
        arrays["log_w"], -arrays["u_b"] - arrays["log_p_g"] - log_z, rtol=1e-10
    )


def test_thesis_alignment_weights_depend_only_on_the_seed_and_the_sample(tmp_path):
    """``log Z_align`` of ``thesis`` mode is a Monte-Carlo integral over rotations: the
    rotations are seeded per latent block, so the same seed gives the same ``log_w`` and
    chunking (as a resumed run does) does not change a sample's value."""
    run = load_run(_train_aligned_butane(tmp_path, seed=4, align=THESIS))
    first = draw_samples(run, seed=0, start=0, stop=12)
    again = draw_samples(run, seed=0, start=0, stop=12)
    np.testing.assert_array_equal(first["log_w"], again["log_w"])
    finite = np.isfinite(first["log_w"])
    assert finite.any()
    np.testing.assert_allclose(
        first["log_w"][finite],
        (-first["u_b"] - first["log_p_g"] - first["log_z_align"])[finite],
        rtol=1e-12,
    )
    for start, split, stop in ((0, 5, 12), (1020, 1025, 1030)):  # the second spans 2 blocks
        whole = draw_samples(run, seed=0, start=start, stop=stop)["log_z_align"]
        parts = [
            draw_samples(run, 0, a, b)["log_z_align"] for a, b in ((start, split), (split, stop))
        ]
        # log Z_align depends on the shape alone; other chunks move the shapes by float32
        # round-off only (~1e-6 nm), while independent rotation draws differ by the
        # Monte-Carlo error, ~0.01 (forcefields.alignment.log_z_align).
        np.testing.assert_allclose(np.concatenate(parts), whole, rtol=0, atol=1e-4)


def test_samples_outside_the_canonical_labelling_get_zero_weight(tmp_path, monkeypatch):
    """The sidecar's log weights are ``-inf`` exactly where ``flow.is_canonical`` is False."""
    run = load_run(_train_aligned_butane(tmp_path, seed=3))
    plain = draw_samples(run, seed=0, start=0, stop=12)
    assert np.all(np.isfinite(plain["log_w"]))
    monkeypatch.setattr(run.flow, "is_canonical", lambda x: torch.arange(len(x)) % 2 == 0)
    restricted = draw_samples(run, seed=0, start=0, stop=12)
    np.testing.assert_array_equal(restricted["log_w"][::2], plain["log_w"][::2])
    assert np.all(restricted["log_w"][1::2] == -np.inf)


def test_more_samples_than_fit_in_memory_or_on_disk_are_refused_before_drawing(toy_run, tmp_path):
    from forcefields.errors import ConfigError

    out = tmp_path / "huge.npz"
    with pytest.raises(ConfigError, match=r"^-n: 1000000000000 samples need about"):
        sample_run(toy_run, 10**12, out, progress=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("align", [RIGID, THESIS])
def test_a_sample_that_overflowed_gets_nan_arrays_and_the_others_theirs(tmp_path, align):
    # the alignment penalty refuses non-finite frames: one overflowed sample used to end
    # the whole call, and its seeded latents made every rerun end the same way
    run = load_run(_train_aligned_butane(tmp_path, seed=5, align=align))
    clean = draw_samples(run, seed=0, start=0, stop=4)
    draw = run.flow.sample_from_latent

    def overflowing(z, context=None):
        x, log_prob = draw(z)
        x = x.clone()
        x[1] = torch.inf
        return x, log_prob

    run.flow.sample_from_latent = overflowing
    spoiled = draw_samples(run, seed=0, start=0, stop=4)
    for key in ("energy", "log_z_align"):
        assert np.isnan(spoiled[key][1]), key
    # no weight for a sample whose target density cannot be evaluated: the estimators
    # take the sidecar as it is (they refuse NaN weights)
    assert spoiled["log_w"][1] == -np.inf
    for key in ("energy", "log_w", "log_z_align"):
        np.testing.assert_array_equal(spoiled[key][[0, 2, 3]], clean[key][[0, 2, 3]])


def test_a_checkpoint_trained_for_another_system_is_refused(tmp_path):
    # its weights fit the flow, so they loaded, and the samples were weighted against the
    # run's energy, not the one they were trained for
    runs = {}
    for system in ("double_well_wide", "double_well_medium"):
        mapping = tiny_config(system=system, seed=3)
        train(config_from_mapping(mapping), tmp_path / system, progress=False)
        runs[system] = tmp_path / system
    foreign = runs["double_well_wide"] / "checkpoints" / "final.pt"
    with pytest.raises(CheckpointError, match="trained for another run .*'double_well_wide'"):
        load_run(runs["double_well_medium"], checkpoint=foreign)


def test_a_checkpoint_is_sampled_with_the_alignment_of_the_phase_it_was_saved_in(tmp_path):
    # the last phase's alignment was used for every checkpoint: a pre-training checkpoint
    # with an alignment penalty was weighted as if it had none, and the other way round
    butane = systems.load("butane")
    data = butane.positions[None] + 0.003 * np.random.default_rng(6).normal(
        size=(64, butane.n_atoms, 3)
    )
    np.savez(tmp_path / "data.npz", x=data)
    phase = {
        "steps": 2,
        "batch_size": 16,
        "lr": 1e-4,
        "losses": {"kl_z_dd": 1.0},
        "data": {"source": "file", "path": str(tmp_path / "data.npz")},
    }
    mapping = {
        "system": "butane",
        "flow": {"preset": "molecule", "width": 8, "repeats": 1, "standardize": True},
        "metrics": {"every": 2, "samples": 0},
        "phases": [{**phase, "name": "aligned", "align": THESIS}, {**phase, "name": "plain"}],
    }
    train(config_from_mapping(mapping), tmp_path / "run", progress=False)
    checkpoints = tmp_path / "run" / "checkpoints"
    aligned = load_run(tmp_path / "run", checkpoint=checkpoints / "end_aligned.pt")
    assert "log_z_align" in draw_samples(aligned, seed=0, start=0, stop=4)
    assert "log_z_align" not in draw_samples(load_run(tmp_path / "run"), seed=0, start=0, stop=4)


def test_a_molgen_run_folder_stands_for_its_training_run(toy_run, tmp_path):
    pipeline = tmp_path / "pipeline"
    pipeline.mkdir()
    (pipeline / "pipeline.json").write_text("{}")
    (pipeline / "train").symlink_to(toy_run, target_is_directory=True)
    loaded = load_run(pipeline)
    direct = load_run(toy_run)
    assert loaded.checkpoint == pipeline / "train" / direct.checkpoint.relative_to(toy_run)
    for (name, mine), (_, theirs) in zip(
        loaded.flow.state_dict().items(), direct.flow.state_dict().items(), strict=True
    ):
        assert torch.equal(mine, theirs), name


@pytest.mark.parametrize("align", [RIGID, THESIS])
def test_a_chunk_whose_every_sample_overflowed_gets_nan_arrays(tmp_path, align):
    run = load_run(_train_aligned_butane(tmp_path, seed=5, align=align))
    draw = run.flow.sample_from_latent

    def overflowing(z, context=None):
        x, log_prob = draw(z)
        return torch.full_like(x, torch.inf), log_prob

    run.flow.sample_from_latent = overflowing
    spoiled = draw_samples(run, seed=0, start=0, stop=3)
    assert np.isnan(spoiled["energy"]).all() and np.isnan(spoiled["log_z_align"]).all()
    assert (spoiled["log_w"] == -np.inf).all()


def test_the_refusal_names_a_key_only_the_existing_output_records():
    from molgen.sampling.chunks import _differences

    assert _differences({"seed": 1, "n": 5, "old": 3}, {"seed": 1, "n": 5}) == " (old 3 → None)"
    assert _differences({"seed": 1}, {"seed": 2}) == " (seed 1 → 2)"
