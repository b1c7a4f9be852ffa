"""Mode populations with standard errors, and free-energy differences between modes.

Standard errors come from the effective sample count ``n_eff = n / g`` (``g`` the
statistical inefficiency): the decorrelated frames are treated as ``n_eff`` independent
categorical draws, so ``Cov(p_a, p_b) = (δ_ab p_a − p_a p_b) / n_eff``. Propagating this
to ``ΔF_{a→b} = F_b − F_a = −kT ln(p_b / p_a)`` gives
``sem(ΔF) = kT sqrt((1/p_a + 1/p_b) / n_eff)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np

__all__ = ["mode_fractions", "population_sems", "population_table", "free_energy_differences"]


def mode_fractions(labels: np.ndarray, n_modes: int) -> np.ndarray:
    """Fraction of frames in each mode ``0 .. n_modes-1`` ``(n_modes,)`` of integer ``labels``."""
    labels = np.asarray(labels).reshape(-1)
    if labels.size == 0:
        return np.full(n_modes, np.nan)
    return np.bincount(labels, minlength=n_modes)[:n_modes] / labels.size


def population_sems(fractions: np.ndarray, n_effective: float) -> np.ndarray:
    """Standard errors ``sqrt(p (1 − p) / n_eff)`` ``(n_modes,)`` of the mode fractions."""
    fractions = np.asarray(fractions, dtype=np.float64)
    return np.sqrt(fractions * (1.0 - fractions) / n_effective)


def population_table(
    fractions: np.ndarray, sems: np.ndarray, mode_names: Sequence[str]
) -> dict[str, dict[str, float]]:
    """``{mode: {"mean": p, "sem": s}}``."""
    return {
        name: {"mean": float(p), "sem": float(s)}
        for name, p, s in zip(mode_names, fractions, sems, strict=True)
    }


def free_energy_differences(
    fractions: np.ndarray, n_effective: float, kT: float, mode_names: Sequence[str]
) -> dict[str, dict[str, float]]:
    """``{"a->b": {"mean": F_b − F_a, "sem": s}}`` for every pair ``a`` before ``b``.

    Arguments:
        fractions: mode populations ``(n_modes,)``.
        n_effective: effective number of independent frames behind ``fractions``.
        kT: thermal energy in the unit wanted for ``ΔF`` (kJ/mol, or 1/β for reduced units).
        mode_names: names of the modes, in label order.

    A pair with an empty mode gets an infinite (JSON: ``null``) difference.
    """
    fractions = np.asarray(fractions, dtype=np.float64)
    table = {}
    for a, b in combinations(range(len(mode_names)), 2):
        p_a, p_b = fractions[a], fractions[b]
        mean, sem = np.inf, np.inf
        if p_a > 0.0 and p_b > 0.0:
            mean = -kT * np.log(p_b / p_a)
            sem = kT * np.sqrt((1.0 / p_a + 1.0 / p_b) / n_effective)
        table[f"{mode_names[a]}->{mode_names[b]}"] = {"mean": float(mean), "sem": float(sem)}
    return table
