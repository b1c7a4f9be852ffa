"""A ``molgen reference`` folder read as samples: its equilibrated frames, equally weighted,
with their trajectory frames, labels and system (``molgen free-energy REF --correlated``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import systems
from cli.main import main
from forcefields.errors import InputFileError
from molgen.estimate.context import prepare_samples
from systems.reference.outputs import write_target_frames

N_FRAMES, N_CHAINS, EQUILIBRATION = 120, 2, 20


def _reference(folder, system) -> tuple[np.ndarray, np.ndarray]:
    """Two chains of noisy minimised butane with random trans/gauche labels."""
    rng = np.random.default_rng(4)
    shape = (N_FRAMES, N_CHAINS)
    positions = system.positions + 0.01 * rng.standard_normal((*shape, system.n_atoms, 3))
    labels = rng.choice(3, size=shape, p=[0.2, 0.6, 0.2])
    write_target_frames(
        folder, positions, np.zeros(shape), labels, 1.0, "kJ/mol", {}, topology=system.topology
    )
    stats = {
        "system": "butane",
        "temperature": 300.0,
        "populations": {},
        "equilibration_frames": EQUILIBRATION,
    }
    (folder / "stats.json").write_text(json.dumps(stats))
    return positions[EQUILIBRATION:].swapaxes(0, 1), labels[EQUILIBRATION:].T


def test_equilibrated_frames_are_the_samples(tmp_path):
    system = systems.load("butane")
    positions, labels = _reference(tmp_path, system)
    context = prepare_samples(tmp_path)
    kept = N_CHAINS * (N_FRAMES - EQUILIBRATION)
    assert context.samples.n == kept and (context.samples.log_w == 0).all()
    assert context.system.name == "butane"
    np.testing.assert_array_equal(context.labels, labels.reshape(-1))
    # dcd stores float32 Ångström: 1e-7 nm rounding against 0.01 nm noise
    np.testing.assert_allclose(context.coordinates, positions.reshape(kept, -1, 3), atol=1e-6)


def test_free_energy_of_a_reference_folder(tmp_path, capsys):
    _, labels = _reference(tmp_path, systems.load("butane"))
    out = tmp_path / "fe.json"
    assert main(["free-energy", str(tmp_path), "--correlated", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    names = systems.load("butane").mode_names
    for index, name in enumerate(names):
        expected = np.mean(labels == index)
        assert report["populations"][name]["mean"] == pytest.approx(expected, abs=1e-12)


def test_a_reference_folder_is_analysed_as_correlated_frames(tmp_path, capsys):
    # without --correlated the error bars of parallel-tempering frames came out as if the
    # frames were independent
    _reference(tmp_path, systems.load("butane"))
    plain, flagged = tmp_path / "plain.json", tmp_path / "flagged.json"
    assert main(["free-energy", str(tmp_path), "--json", str(plain)]) == 0
    assert "analysed as --correlated" in capsys.readouterr().out
    assert main(["free-energy", str(tmp_path), "--correlated", "--json", str(flagged)]) == 0
    assert json.loads(plain.read_text()) == json.loads(flagged.read_text())


def test_reading_the_dcd_prints_nothing(tmp_path, capfd):
    # mdtraj's C DCD plugin used to print two "dcdplugin)" lines to standard output
    _reference(tmp_path, systems.load("butane"))
    capfd.readouterr()
    prepare_samples(tmp_path)
    out, err = capfd.readouterr()
    assert "dcdplugin" not in out + err


def test_a_corrupt_toy_reference_sample_file_is_an_input_error(tmp_path):
    # samples.npz used to be opened with a bare np.load, which raised numpy's own error
    shape = (4, 1)
    write_target_frames(
        tmp_path,
        np.zeros((*shape, 12)),
        np.zeros(shape),
        np.zeros(shape, dtype=int),
        1.0,
        "reduced",
        {},
    )
    (tmp_path / "stats.json").write_text(json.dumps({"populations": {}}))
    (tmp_path / "samples.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(InputFileError, match=r"samples\.npz: not a readable \.npz"):
        prepare_samples(tmp_path)
