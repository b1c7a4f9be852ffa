"""Reading sidecars: the log-weight fallback and the recorded sampling temperature."""

from __future__ import annotations

import numpy as np
import pytest

from forcefields.errors import InputFileError, ShapeMismatchError
from molgen.estimate.samples import load_samples
from tests.molgen.estimate.conftest import write_sidecar


def test_log_w_fallback_subtracts_the_alignment_integral(tmp_path):
    rng = np.random.default_rng(0)
    u_b, log_p_g, log_z_align = rng.normal(size=(3, 20))
    aligned = load_samples(
        write_sidecar(tmp_path / "a.npz", u_b=u_b, log_p_g=log_p_g, log_z_align=log_z_align)
    )
    np.testing.assert_array_equal(aligned.log_w, -u_b - log_p_g - log_z_align)
    plain = load_samples(write_sidecar(tmp_path / "p.npz", u_b=u_b, log_p_g=log_p_g))
    np.testing.assert_array_equal(plain.log_w, -u_b - log_p_g)


def test_sampling_temperature_is_read_and_checked(tmp_path):
    log_w = np.zeros(5)
    assert load_samples(write_sidecar(tmp_path / "old.npz", log_w=log_w)).temperature is None
    read = load_samples(write_sidecar(tmp_path / "t.npz", log_w=log_w, temperature=300.0))
    assert read.temperature == 300.0 and "temperature" not in read.arrays
    for bad in (np.array([300.0, 310.0]), np.array(-1.0), np.array("hot")):
        with pytest.raises(InputFileError, match="'temperature'"):
            load_samples(write_sidecar(tmp_path / "bad.npz", log_w=log_w, temperature=bad))
    short = write_sidecar(tmp_path / "short.npz", u_b=log_w, log_p_g=log_w, log_z_align=log_w[:3])
    with pytest.raises(ShapeMismatchError, match="differ in length"):
        load_samples(short)


def test_an_observable_of_another_length_is_refused_not_dropped(tmp_path):
    path = write_sidecar(tmp_path / "o.npz", log_w=np.zeros(5), phi=np.zeros(4))
    with pytest.raises(ShapeMismatchError, match=r"o\.npz: per-sample arrays differ.*'phi': 4"):
        load_samples(path)
    kept = load_samples(write_sidecar(tmp_path / "k.npz", log_w=np.zeros(5), phi=np.ones(5)))
    np.testing.assert_array_equal(kept.arrays["phi"], np.ones(5))


@pytest.mark.parametrize("log_w", [np.float64(0.0), np.zeros((5, 2))])
def test_log_weights_must_be_one_per_sample(tmp_path, log_w):
    path = write_sidecar(tmp_path / "w.npz", log_w=log_w, modes=np.zeros(5, dtype=np.int64))
    with pytest.raises(ShapeMismatchError, match=r"w\.npz: 'log_w' must hold one entry per"):
        load_samples(path)


@pytest.mark.parametrize(
    ("log_w", "message"),
    [
        (np.array([0.0, np.nan]), "NaN or \\+inf"),
        (np.array([0.0, np.inf]), "NaN or \\+inf"),
        (np.full(3, -np.inf), "every weight is zero"),
        (np.zeros(0), "no samples"),
    ],
)
def test_bad_log_weights_name_the_sidecar(tmp_path, log_w, message):
    path = write_sidecar(tmp_path / "bad.npz", log_w=log_w)
    with pytest.raises(InputFileError, match=rf"bad\.npz: .*{message}"):
        load_samples(path)


def test_a_truncated_sidecar_is_an_input_error(tmp_path):
    whole = write_sidecar(tmp_path / "whole.npz", log_w=np.zeros(1000))
    data = whole.read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFileError, match=r"cut\.npz: not a readable \.npz"):
        load_samples(tmp_path / "cut.npz")
