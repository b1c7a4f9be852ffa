"""JSON entries for reports: populations as ``{"mean", "sem"}`` and free energies as
``{"value_kT", "sem_kT"}``, each with ``trusted`` (and ``reason`` when withheld)."""

from __future__ import annotations

import math

from molgen.estimate.result import Estimate

__all__ = ["population_entry", "free_energy_entry", "comparison_entry"]


def _number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _trust(estimate: Estimate) -> dict:
    return {"trusted": True} if estimate.trusted else {"trusted": False, "reason": estimate.reason}


def population_entry(estimate: Estimate) -> dict:
    """``{"mean", "sem", "trusted"[, "reason"]}`` of a population (fraction)."""
    return {"mean": _number(estimate.value), "sem": _number(estimate.stderr), **_trust(estimate)}


def free_energy_entry(estimate: Estimate, kT: float = 1.0) -> dict:
    """``{"value_kT", "sem_kT", "trusted"[, "reason"]}`` of a free energy in the unit of ``kT``."""
    return {
        "value_kT": _number(estimate.value / kT),
        "sem_kT": _number(estimate.stderr / kT),
        **_trust(estimate),
    }


def comparison_entry(value: float, sem: float, reference: float, reference_sem: float) -> dict:
    """``{"difference", "combined_sem", "z", "within_2_sem"}`` of a value against a reference.

    ``combined_sem = sqrt(sem² + reference_sem²)``; entries are ``None`` when an input is
    missing or not finite, and ``z`` is ``None`` (infinite) for values with standard
    errors of 0 that differ by more than rounding.
    """
    inputs = (value, sem, reference, reference_sem)
    if any(x is None or not math.isfinite(x) for x in inputs):
        return {"difference": None, "combined_sem": None, "z": None, "within_2_sem": None}
    difference = value - reference
    combined = math.hypot(sem, reference_sem)
    if combined > 0:
        z = difference / combined
    else:  # exact values: equal up to floating-point rounding, or not at all
        rounding = 1e-12 * max(1.0, abs(value), abs(reference))
        z = 0.0 if abs(difference) <= rounding else math.inf
    return {
        "difference": difference,
        "combined_sem": combined,
        "z": _number(z),
        "within_2_sem": abs(z) <= 2.0,
    }
