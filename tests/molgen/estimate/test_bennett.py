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


def test_an_overflowing_bar_error_bar_is_replaced_by_mbars():
    # One clashing frame (a forward work of 1000 kT among N(0, 1) works) overflows pymbar's
    # BAR variance formula: it returns the right ΔF with a NaN error bar. The estimate used
    # to be refused as "did not converge" although the overlap is good; MBAR's asymptotic
    # error of the same two states is finite.
    rng = np.random.default_rng(0)
    forward, reverse = rng.normal(0, 1, 500), rng.normal(0, 1, 500)
    forward[0] = 1000.0
    with quiet("pymbar"), np.errstate(all="ignore"):
        bar = pymbar.bar(forward, reverse)
    assert math.isnan(bar["dDelta_f"])  # the premise, on the installed pymbar
    u_kn = np.zeros((2, 1000))
    u_kn[1, :500], u_kn[0, 500:] = forward, reverse
    with quiet("pymbar"):
        mbar = pymbar.MBAR(u_kn, [500, 500]).compute_free_energy_differences()
    result = bar_free_energy(forward, reverse)
    assert result.delta_f.trusted and result.overlap > 0.5
    # both solve the same two-state equations: ΔF agrees to the solvers' tolerance
    assert result.delta_f.value == pytest.approx(bar["Delta_f"], abs=1e-9)
    assert result.delta_f.value == pytest.approx(mbar["Delta_f"][0, 1], abs=1e-6)
    assert result.delta_f.stderr == pytest.approx(mbar["dDelta_f"][0, 1], rel=1e-6)
