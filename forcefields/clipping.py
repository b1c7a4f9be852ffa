"""Per-term gradient clipping by linearisation (thesis §2.3).

Each clipped term is a function ``U(s)`` of its own coordinate ``s`` (a distance,
an angle, ...). Where ``|dU/ds|`` would exceed a threshold ``g``, the term
continues along its tangent: it is identical to ``U`` where ``|dU/ds| <= g``,
C¹ at the switch, and its derivative is bounded by ``g`` beyond. Energies stay
finite for overlapping atoms, which keeps training stable; reweighting and every
reported number use the exact (unclipped) energy.

Default thresholds (``DEFAULT_THRESHOLDS``) sit where the exact term is already
tens to hundreds of k_B T above its minimum at 300 K, so Boltzmann-relevant
configurations see the exact energy:

* ``bond``, ``urey_bradley``: 2·10⁴ kJ/mol/nm. For a C-H bond (k ≈ 1.3·10⁵ kJ/mol/nm²)
  the switch is 0.08 nm from r0, at ≈ 300 k_B T; for dialanine's stiffest, C=O
  (k ≈ 2.6·10⁵ kJ/mol/nm²), 0.04 nm from r0, at ≈ 155 k_B T.
* ``angle``, ``improper``: 500 kJ/mol/rad, i.e. > 1 rad from θ0 for typical
  angle constants and ≈ 0.6 rad (≈ 60 k_B T) for stiff impropers.
* ``lj``, ``coulomb``: 10⁴ kJ/mol/nm, reached only inside the repulsive wall
  (≈ 70 k_B T up it for a C-H pair) or for nearly overlapping charges. These two are
  linearised below a switch distance only (the wall, or close approach), so a threshold
  below the largest attractive slope of a Lennard-Jones pair (≈ 2.7 ε/R_min, about
  10 kJ/mol/nm) does not bound the attractive side.
* ``dihedral`` and ``cmap`` have bounded derivatives and are never clipped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch

from forcefields.errors import ConfigError
from forcefields.option_values import is_real_number

__all__ = [
    "DEFAULT_THRESHOLDS",
    "CLIPPABLE_TERMS",
    "resolve_thresholds",
    "linearised_harmonic",
    "linearised_below",
    "lennard_jones_switch_distance",
]

CLIPPABLE_TERMS = ("bond", "angle", "urey_bradley", "improper", "lj", "coulomb")

DEFAULT_THRESHOLDS: dict[str, float] = {
    "bond": 2.0e4,
    "urey_bradley": 2.0e4,
    "angle": 500.0,
    "improper": 500.0,
    "lj": 1.0e4,
    "coulomb": 1.0e4,
}


def resolve_thresholds(clip: Mapping[str, float | None] | str | None) -> dict[str, float | None]:
    """Per-term thresholds from a user setting.

    ``None`` disables clipping; ``"default"`` (or an empty mapping) gives
    ``DEFAULT_THRESHOLDS``; a mapping overrides the defaults term by term, and a
    term mapped to ``None`` is left exact.

    Raises:
        ConfigError: unknown term name, or a threshold that is not a finite positive
            number (an infinite one would turn every energy of the term into NaN; map
            the term to ``None`` to leave it exact).
    """
    if clip is None:
        return dict.fromkeys(CLIPPABLE_TERMS)
    if isinstance(clip, str):
        if clip != "default":
            raise ConfigError(f"clip: expected a mapping, 'default' or None, got {clip!r}")
        clip = {}
    thresholds: dict[str, float | None] = dict(DEFAULT_THRESHOLDS)
    for name, value in clip.items():
        if name not in CLIPPABLE_TERMS:
            raise ConfigError(
                f"clip.{name}: unknown term (clippable: {', '.join(CLIPPABLE_TERMS)})"
            )
        if value is not None:
            if not is_real_number(value) or not 0 < value < math.inf:
                raise ConfigError(
                    f"clip.{name}: threshold must be a finite positive number, got {value!r}"
                )
            value = float(value)
        thresholds[name] = value
    return thresholds


def linearised_harmonic(
    deviation: torch.Tensor, k: torch.Tensor, max_slope: float | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``k d²`` and its derivative, continued linearly where ``|2 k d| > max_slope``.

    Arguments:
        deviation: ``d = s - s0``, any shape.
        k: force constants, broadcastable to ``deviation`` (energy / unit²).
        max_slope: threshold on ``|dU/ds|`` (energy / unit) or ``None`` (exact).

    Returns:
        ``(U, dU/ds)``, each the shape of ``deviation``. With ``inner`` the
        deviation clamped to the switch points ``±max_slope / 2k``, the slope is
        ``2 k inner`` on both sides of the switch.
    """
    if max_slope is None:
        return k * deviation**2, 2.0 * k * deviation
    switch = max_slope / (2.0 * k)
    inner = torch.maximum(torch.minimum(deviation, switch), -switch)
    energy = k * inner**2 + max_slope * (deviation.abs() - inner.abs())
    return energy, 2.0 * k * inner


def linearised_below(
    r: torch.Tensor,
    switch: torch.Tensor,
    energy_and_slope,
    slope_at_switch: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``U(r)`` for ``r >= switch`` and its tangent at ``switch`` below, with ``dU/dr``.

    Arguments:
        r: distances, ``(P, B)`` nm.
        switch: ``(P, 1)`` switch distances, > 0.
        energy_and_slope: ``r -> (U(r), U'(r))`` on tensors shaped like ``r``.
        slope_at_switch: ``(P, 1)`` ``U'(switch)``.

    Returns:
        ``(U, dU/dr)``; below the switch the slope is ``U'(switch)``, which equals
        ``U'`` evaluated at the clamped distance, so one evaluation serves both sides.
    """
    outer = torch.maximum(r, switch)
    energy, slope = energy_and_slope(outer)
    return energy + slope_at_switch * (r - outer), slope


def lennard_jones_switch_distance(
    epsilon: np.ndarray, rmin: np.ndarray, max_slope: float
) -> np.ndarray:
    """Distance where the CHARMM Lennard-Jones wall reaches ``|U'(r)| = max_slope``.

    ``U = ε[(R/r)¹² - 2(R/r)⁶]`` has ``|U'|`` decreasing on ``(0, R]`` from +∞ to
    0, so the switch is found by bisection on that interval (float64, to
    machine precision). ε must be positive.

    Arguments:
        epsilon: ``(P,)`` kJ/mol. rmin: ``(P,)`` nm. max_slope: kJ/mol/nm.

    Returns:
        ``(P,)`` switch distances in nm.
    """
    epsilon = np.asarray(epsilon, dtype=np.float64)
    rmin = np.asarray(rmin, dtype=np.float64)
    low = np.zeros_like(rmin)
    high = rmin.copy()
    for _ in range(200):
        middle = 0.5 * (low + high)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio6 = (rmin / middle) ** 6
            slope = 12.0 * epsilon / middle * (ratio6**2 - ratio6)
        too_steep = slope > max_slope
        low = np.where(too_steep, middle, low)
        high = np.where(too_steep, high, middle)
    return high
