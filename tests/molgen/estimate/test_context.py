"""Samples joined with their system: weighted samples are analysed at the temperature
they were drawn at."""

from __future__ import annotations

import numpy as np
import pytest

import systems
from forcefields.errors import ConfigError, InputFileError, MolgenError
from molgen.estimate.context import prepare_samples
from tests.molgen.estimate.conftest import double_well_samples, write_sidecar


def _with_temperature(path, temperature: float):
    with np.load(path) as archive:
        arrays = dict(archive)
    return write_sidecar(path, **arrays, temperature=np.array(temperature))


def test_weighted_samples_are_refused_at_another_temperature(tmp_path):
    path = _with_temperature(double_well_samples(tmp_path / "g.npz", 200, 0.0, 1.5, 0), 2.0)
    context = prepare_samples(path, temperature=2.0)
    assert context.beta == pytest.approx(systems.load("double_well_2d", 2.0).beta)
    with pytest.raises(ConfigError, match=r"--temperature 1: .*drawn at 2 \(recorded"):
        prepare_samples(path)  # the system's default, 1, is not where they were drawn
    with pytest.raises(ConfigError, match=r"--temperature 3: .*drawn at 2"):
        prepare_samples(path, temperature=3.0)


def test_an_older_sidecar_was_drawn_at_the_system_default(tmp_path):
    path = double_well_samples(tmp_path / "old.npz", 200, 0.0, 1.5, 0)
    assert prepare_samples(path).beta == systems.load("double_well_2d").beta
    with pytest.raises(ConfigError, match="no 'temperature' in the sidecar"):
        prepare_samples(path, temperature=2.0)


def test_equal_weight_frames_are_analysed_at_their_recorded_temperature(tmp_path):
    """MD / PT frames at 1 hold the populations at 1: at 2 they would be reported as
    another temperature's (the double well's minor fraction is 0.22 at 1, 0.36 at 2)."""
    x = np.random.default_rng(0).normal(size=(50, 2))
    arrays = {"x": x, "log_w": np.zeros(50), "system": np.array("double_well_2d")}
    recorded = write_sidecar(tmp_path / "md.npz", **arrays, temperature=np.array(1.0))
    assert prepare_samples(recorded, temperature=1.0).beta == pytest.approx(1.0)
    with pytest.raises(ConfigError, match=r"--temperature 2: .*frames sampled at 1 \(recorded"):
        prepare_samples(recorded, temperature=2.0)
    unrecorded = write_sidecar(tmp_path / "old_md.npz", **arrays)
    context = prepare_samples(unrecorded, temperature=2.0)
    assert context.beta == pytest.approx(systems.load("double_well_2d", 2.0).beta)


def test_samples_of_another_system_are_refused(tmp_path):
    """A sidecar names its system; analysing it as another (same dimension: no shape
    check catches it) would reweight with the wrong energy."""
    x = np.random.default_rng(0).normal(size=(20, 12))
    path = write_sidecar(
        tmp_path / "m.npz", x=x, log_w=np.zeros(20), system=np.array("double_well_medium")
    )
    with pytest.raises(ConfigError, match=r"--system double_well_wide: .*m\.npz .*medium"):
        prepare_samples(path, "double_well_wide")
    assert prepare_samples(path, "double_well_medium").system.name == "double_well_medium"
    assert prepare_samples(path).system.name == "double_well_medium"


def test_a_system_directory_matches_the_name_it_was_recorded_under(tmp_path):
    """A sidecar of a system read from a directory records the path given to
    ``systems.load``; the same directory given by another path is the same system."""
    import shutil

    from systems.files import charmm_files

    folder = tmp_path / "butane_copy"
    folder.mkdir()
    files = charmm_files("butane")
    for source in (files.psf, files.prm, files.pdb):
        shutil.copy(source, folder / source.name)
    path = write_sidecar(tmp_path / "d.npz", log_w=np.zeros(3), system=np.array("butane_copy/"))
    assert prepare_samples(path, str(folder)).system.name == "butane_copy"
    with pytest.raises(ConfigError, match="holds samples of butane_copy/"):
        prepare_samples(path, "butane")


@pytest.mark.parametrize(
    ("modes", "message"),
    [
        (np.r_[np.zeros(49), 2], r"'modes' holds labels outside \[0, 2\) .* e\.g\. 2 at sample 49"),
        (np.r_[np.zeros(49), -1], r"'modes' holds labels outside \[0, 2\)"),
        (np.full(50, 0.5), r"'modes' must hold integer mode labels"),
        (np.array(["major"] * 50), r"'modes' must hold integer mode labels"),
    ],
)
def test_stored_mode_labels_outside_the_modes_name_the_sidecar(tmp_path, modes, message):
    # an out-of-range label used to reach the estimators as an IndexError or a message
    # naming neither the file nor the field
    path = double_well_samples(tmp_path / "s.npz", 50, 0.0, 1.0, seed=0)
    arrays = dict(np.load(path))
    write_sidecar(path, **{**arrays, "modes": modes})
    with pytest.raises(MolgenError, match=r"s\.npz: " + message):
        prepare_samples(path)


def test_mode_names_must_be_a_vector(tmp_path):
    path = double_well_samples(tmp_path / "s.npz", 50, 0.0, 1.0, seed=0)
    arrays = {k: v for k, v in np.load(path).items() if k != "system"}
    write_sidecar(path, **arrays, mode_names=np.array("major"))
    with pytest.raises(InputFileError, match=r"s\.npz: 'mode_names' must be a vector of names"):
        prepare_samples(path)
