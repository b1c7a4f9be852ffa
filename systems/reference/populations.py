"""Mode populations with standard errors, and free-energy differences between modes.

Standard errors come from the effective sample count ``n_eff = n / g`` (``g`` the
statistical inefficiency): the decorrelated frames are treated as ``n_eff`` independent
categorical draws, so ``Cov(p_a, p_b) = (δ_ab p_a − p_a p_b) / n_eff``. Propagating this
to ``ΔF_{a→b} = F_b − F_a = −kT ln(p_b / p_a)`` gives
``sem(ΔF) = kT sqrt((1/p_a + 1/p_b) / n_eff)``.

Two limits keep these honest where the frames say little. A population within one
effective frame of 0 or 1 (no frame in a mode, say) gets at least the standard error of
a population of one effective frame, ``sqrt(q (1 − q) / n_eff)`` with ``q = 1/n_eff``,
rather than the binomial 0 (:func:`resolution_floor`). Free-energy differences are
withheld (``None``) below ``max(MIN_EFFECTIVE_FRAMES, MIN_EFFECTIVE_FRACTION × n)``
effective frames out of ``n`` (:func:`withheld_below_min_frames`), the count below which
``molgen free-energy`` refuses the same frames by default.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np

__all__ = [
    "LIMITS_NOTE",
    "MIN_EFFECTIVE_FRACTION",
    "MIN_EFFECTIVE_FRAMES",
    "required_effective_frames",
    "mode_fractions",
    "population_sems",
    "population_table",
    "free_energy_differences",
    "resolution_floor",
    "withheld_below_min_frames",
]

MIN_EFFECTIVE_FRAMES = 50
"""Least effective sample count at which an estimate is given (molgen's ESS threshold)."""
MIN_EFFECTIVE_FRACTION = 0.01
"""Least effective sample count as a fraction of the frames (molgen's ESS threshold)."""
LIMITS_NOTE = (
    "populations within one effective frame of 0 or 1 get at least the error of one "
    f"effective frame; free-energy differences withheld below max({MIN_EFFECTIVE_FRAMES}, "
    f"{MIN_EFFECTIVE_FRACTION:.0%} of the frames) effective frames"
)
"""How :func:`resolution_floor` and :func:`withheld_below_min_frames` limit the errors."""


def mode_fractions(labels: np.ndarray, n_modes: int) -> np.ndarray:
    """Fraction of frames in each mode ``0 .. n_modes-1`` ``(n_modes,)`` of integer ``labels``."""
    labels = np.asarray(labels).reshape(-1)
    if labels.size == 0:
        return np.full(n_modes, np.nan)
    return np.bincount(labels, minlength=n_modes)[:n_modes] / labels.size


def population_sems(fractions: np.ndarray, n_effective: float) -> np.ndarray:
    """Standard errors ``sqrt(p (1 − p) / n_eff)`` ``(n_modes,)`` of the mode fractions,
    at least :func:`resolution_floor`."""
    fractions = np.asarray(fractions, dtype=np.float64)
    binomial = np.sqrt(fractions * (1.0 - fractions) / n_effective)
    return np.maximum(binomial, resolution_floor(fractions, n_effective))


def resolution_floor(fractions: np.ndarray, n_effective: float) -> np.ndarray:
    """``(n_modes,)``: the standard error of a population of one effective frame,
    ``sqrt(q (1 − q) / n_eff)`` with ``q = 1/n_eff`` (``q = 1/2`` for ``n_eff ≤ 2``), for
    fractions within ``1/n_eff`` of 0 or 1; 0 for the others."""
    fractions = np.asarray(fractions, dtype=np.float64)
    if not n_effective > 0:
        return np.full(fractions.shape, np.nan)
    q = 1.0 / max(float(n_effective), 2.0)
    unresolved = np.minimum(fractions, 1.0 - fractions) * n_effective < 1.0
    return np.where(unresolved, np.sqrt(q * (1.0 - q) / n_effective), 0.0)


def required_effective_frames(
    n_frames: int,
    min_frames: float = MIN_EFFECTIVE_FRAMES,
    min_fraction: float = MIN_EFFECTIVE_FRACTION,
) -> float:
    """The least effective sample size at which ``n_frames`` frames or samples give an
    estimate: ``max(min_frames, min_fraction × n_frames)``."""
    return max(min_frames, min_fraction * n_frames)


def withheld_below_min_frames(
    differences: dict[str, dict[str, float]], n_effective: float, n_frames: int
) -> dict[str, dict[str, float | None]]:
    """``differences`` with every mean and standard error ``None`` when ``n_effective`` of
    ``n_frames`` frames is below :func:`required_effective_frames`."""
    if n_effective >= required_effective_frames(n_frames):
        return differences
    return {name: {"mean": None, "sem": None} for name in differences}


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
