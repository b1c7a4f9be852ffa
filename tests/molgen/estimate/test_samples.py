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
