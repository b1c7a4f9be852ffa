"""Bad input to the free-energy estimators is refused with a typed error naming the field,
and degenerate but valid input gives refusals instead of crashes."""

from __future__ import annotations

import math
import types

import numpy as np
import pytest
import torch

from forcefields.errors import ConfigError, ShapeMismatchError
from molgen.estimate import (
    bar_free_energy,
    free_energy_perturbation,
    mbar_free_energies,
    predict_variant,
    systematic_resample,
    variant_workflow,
)
from molgen.estimate.context import SampleContext
from molgen.estimate.variant_workflow import bar_to_parameters

K_B = 0.008314462618


def test_fep_of_no_samples_names_delta_u():
    with pytest.raises(ConfigError, match="^delta_u: "):
        free_energy_perturbation(np.array([]))


@pytest.mark.parametrize("kT", [0.0, -2.5, math.nan])
def test_a_non_positive_kT_is_refused(kT):
    rng = np.random.default_rng(0)
    with pytest.raises(ConfigError, match="kT"):
        free_energy_perturbation(np.full(100, 0.5), kT=kT)
    with pytest.raises(ConfigError, match="kT"):
        bar_free_energy(rng.normal(0.5, 1, 50), rng.normal(-0.5, 1, 50), kT=kT)
    with pytest.raises(ConfigError, match="kT"):
        mbar_free_energies(np.zeros((2, 100)), [50, 50], kT=kT)


def test_mbar_refuses_nan_energies_with_a_typed_error():
    u_kn = np.zeros((2, 200))
    u_kn[1] = np.random.default_rng(0).normal(0, 1, 200)
    u_kn[1, 3] = np.nan
    with pytest.raises(ConfigError, match="u_kn"):
        mbar_free_energies(u_kn, [100, 100])


@pytest.mark.parametrize("n_k", [[150, -50], [100.5, 100.5]])
def test_mbar_refuses_counts_that_are_not_sample_counts(n_k):
    with pytest.raises(ConfigError, match="N_k"):
        mbar_free_energies(np.zeros((2, 200)), n_k)


def test_predict_variant_mismatch_without_labels_says_no_labels():
    with pytest.raises(ShapeMismatchError, match="no labels, 5 default and 4 variant"):
        predict_variant(None, (), np.zeros(5), np.zeros(4))


def test_predict_variant_names_the_energy_that_is_nan():
    default = np.r_[np.nan, np.zeros(99)]
    with pytest.raises(ConfigError, match="reduced_default"):
        predict_variant(None, (), default, np.zeros(100))


def test_a_variant_that_excludes_every_sample_is_refused_not_a_crash():
    n = 200
    labels = np.r_[np.zeros(100, np.int64), np.ones(100, np.int64)]
    prediction = predict_variant(labels, ("a", "b"), np.zeros(n), np.full(n, np.inf))
    assert not prediction.trusted
    assert prediction.populations_default["a"].value == pytest.approx(0.5)
    assert set(prediction.populations_variant) == {"a", "b"}
    assert set(prediction.free_energies_variant) == {"a->b"}
    for estimate in (
        *prediction.populations_variant.values(),
        prediction.free_energies_variant["a->b"],
    ):
        assert not estimate.trusted and "infinite energy under U_C" in estimate.reason


class _LastPoint:
    """An rng whose uniform draw is the largest double below 1."""

    def random(self) -> float:
        return float(np.nextafter(1.0, 0.0))


def test_systematic_resampling_never_draws_a_trailing_zero_weight():
    # Ten weights of 0.1 sum to 1 - 1.1e-16 in floating point: the points above that
    # sum must still land on a sample with weight.
    log_w = np.r_[np.log(np.full(10, 0.1)), -np.inf]
    assert np.cumsum(np.full(10, 0.1))[-1] < 1.0  # the premise
    for m in (1, 7):
        draws = systematic_resample(log_w, m, _LastPoint())
        assert (draws < 10).all()


class _Quadratic(torch.nn.Module):
    def __init__(self, k: float):
        super().__init__()
        self.k, self.n_atoms = k, 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.k * (x**2).sum(dim=(1, 2))


def _context(temperature: float, seed: int) -> SampleContext:
    system = types.SimpleNamespace(
        kind="molecule",
        name="toy",
        temperature=temperature,
        beta=1.0 / (K_B * temperature),
        energy=lambda dtype: _Quadratic(1.0),
    )
    frames = np.random.default_rng(seed).normal(0.0, 0.05, (300, 1, 3))
    samples = types.SimpleNamespace(log_w=np.zeros(300), sidecar=f"c{seed}.npz", n=300)
    return SampleContext(samples, system, frames, None)


def test_bar_to_parameters_refuses_sets_at_different_temperatures(monkeypatch):
    monkeypatch.setattr(
        variant_workflow, "_energies", lambda context, psf, prm: (_Quadratic(1.0), _Quadratic(2.0))
    )
    with pytest.raises(ConfigError, match="temperature 600.*300"):
        bar_to_parameters(_context(300.0, 0), _context(600.0, 1), "v.psf", ["v.prm"])
    # Same temperature: accepted.
    result = bar_to_parameters(_context(300.0, 0), _context(300.0, 1), "v.psf", ["v.prm"])
    assert result.set_c.n == 300
