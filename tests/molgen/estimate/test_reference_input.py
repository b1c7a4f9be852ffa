"""Reading a reference folder: malformed ``stats.json`` or ``frames.npz`` are typed input
errors naming the file and key, not tracebacks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from forcefields.errors import InputFileError
from molgen.estimate.reference import read_reference

POPULATIONS = {"a": {"mean": 0.5, "sem": 0.1}, "b": {"mean": None, "sem": None}}


def _folder(tmp_path, stats, frames: bytes | None = None):
    folder = tmp_path / "reference"
    folder.mkdir()
    (folder / "stats.json").write_text(json.dumps(stats))
    if frames is not None:
        (folder / "frames.npz").write_bytes(frames)
    return folder


@pytest.mark.parametrize(
    ("stats", "message"),
    [
        ([1, 2], "expected a JSON object"),
        ({"populations": {"a": {"mean": "half", "sem": 0.1}}}, "populations.a.mean must be"),
        (
            {"populations": POPULATIONS, "temperature": "warm", "energy_unit": "kJ/mol"},
            "temperature must be a number",
        ),
        ({"populations": POPULATIONS, "temperature": -1.0}, "temperature must be finite and > 0"),
    ],
)
def test_malformed_stats_name_the_key(tmp_path, stats, message):
    with pytest.raises(InputFileError, match=rf"stats\.json: {message}"):
        read_reference(_folder(tmp_path, stats))


def test_an_unreadable_frames_file_is_an_input_error(tmp_path):
    np.savez(tmp_path / "whole.npz", x0=np.arange(1000.0))
    cut = (tmp_path / "whole.npz").read_bytes()[:3000]
    with pytest.raises(InputFileError, match=r"frames\.npz: not a readable \.npz"):
        read_reference(_folder(tmp_path, {"populations": POPULATIONS}, cut))


def test_missing_values_are_nan_and_numbers_are_kept(tmp_path):
    stats = {
        "populations": POPULATIONS,
        "temperature": 1.0,
        "energy_unit": "reduced",
        "free_energy_differences": {"a->b": {"mean": 2.0, "sem": 0.5}},
    }
    reference = read_reference(_folder(tmp_path, stats))
    assert reference.populations["a"] == (0.5, 0.1)
    assert all(np.isnan(reference.populations["b"]))
    assert reference.free_energies_kT == {"a->b": (2.0, 0.5)}


def test_equilibration_frames_must_be_a_non_negative_integer(tmp_path):
    stats = {"populations": POPULATIONS, "equilibration_frames": 2.5}
    with pytest.raises(InputFileError, match=r"stats\.json: equilibration_frames must be"):
        read_reference(_folder(tmp_path, stats))


def _frames_bytes(tmp_path, **arrays) -> bytes:
    np.savez(tmp_path / "frames_source.npz", **arrays)
    return (tmp_path / "frames_source.npz").read_bytes()


def test_equilibrated_frames_drop_each_chains_leading_frames(tmp_path):
    # two chains of four recorded frames, chain-major as molgen reference writes them
    frames = _frames_bytes(
        tmp_path,
        chain=np.repeat([0, 1], 4),
        iteration=np.tile([1, 2, 3, 4], 2),
        x0=np.arange(8.0),
        energy_unit=np.asarray("reduced"),
    )
    stats = {"populations": POPULATIONS, "equilibration_frames": 1}
    reference = read_reference(_folder(tmp_path, stats, frames))
    kept = reference.equilibrated_frames
    np.testing.assert_array_equal(kept["x0"], [1.0, 2.0, 3.0, 5.0, 6.0, 7.0])
    np.testing.assert_array_equal(kept["chain"], [0, 0, 0, 1, 1, 1])
    assert str(kept["energy_unit"]) == "reduced"
    assert len(reference.frames["x0"]) == 8


def test_every_frame_counts_without_an_equilibration_record(tmp_path):
    frames = _frames_bytes(tmp_path, iteration=np.arange(1, 6), x0=np.arange(5.0))
    reference = read_reference(_folder(tmp_path, {"populations": POPULATIONS}, frames))
    assert reference.equilibrated.tolist() == [True] * 5
