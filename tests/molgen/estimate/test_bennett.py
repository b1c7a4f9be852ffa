"""BAR failures in pymbar come back as refused estimates, never as crashes or NaN error bars."""

from __future__ import annotations

import math

import numpy as np
import pytest

from molgen.estimate import bar_free_energy
from systems.reference.quiet import quiet

with quiet("pymbar"):
    import pymbar


def test_a_bar_convergence_error_is_a_refusal():
    # Works that contradict each other (forward ≈ +2000, reverse ≈ −500 kT, spread 500):
    # pymbar's false-position iteration does not converge on them.
    rng = np.random.default_rng(0)
    forward, reverse = rng.normal(2000, 500, 20), rng.normal(-500, 500, 20)
    with quiet("pymbar"), pytest.raises(pymbar.utils.ConvergenceError):
        pymbar.bar(forward, reverse)  # the premise, on the installed pymbar
    result = bar_free_energy(forward, reverse)
    assert not result.delta_f.trusted and math.isnan(result.delta_f.value)
    assert result.delta_f.reason.startswith("BAR did not converge: ")


@pytest.mark.parametrize("error", ["BoundsError", "ConvergenceError", "ParameterError"])
def test_every_pymbar_failure_is_a_refusal(monkeypatch, error):
    def failing(*args, **kwargs):
        raise getattr(pymbar.utils, error)("Cannot determine bound on free energy")

    monkeypatch.setattr(pymbar, "bar", failing)
    rng = np.random.default_rng(1)
    result = bar_free_energy(rng.normal(0.5, 1, 50), rng.normal(-0.5, 1, 50))
    assert not result.delta_f.trusted
    assert result.delta_f.reason == "BAR did not converge: Cannot determine bound on free energy"


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_a_nan_error_bar_is_a_refusal():
    # Widely spread works on few samples: pymbar 4 returns a finite ΔF with a NaN error
    # bar (its variance formula divides underflowed sums), and the MBAR overlap of these
    # 42 samples is above the 0.03 threshold, so only the finiteness check refuses it.
    rng = np.random.default_rng(14)
    forward, reverse = rng.normal(80, 200, 21), rng.normal(360, 200, 21)
    with quiet("pymbar"):
        assert math.isnan(pymbar.bar(forward, reverse)["dDelta_f"])  # the premise
    result = bar_free_energy(forward, reverse)
    assert result.overlap >= 0.03
    assert not result.delta_f.trusted and math.isnan(result.delta_f.stderr)
    assert result.delta_f.reason.startswith("BAR did not converge: ")
