"""``stats.json`` of independent ladders: error bars from the spread between ladders.

The ``L`` ladders of :class:`~systems.reference.langevin_tempering.LangevinTempering`
share no random numbers and no configurations, so their target-temperature averages are
``L`` independent, identically distributed estimates. Recipe:

1. Equilibration: on top of the burn-in (never recorded), frames before
   ``pymbar.timeseries.detect_equilibration``'s start on the ladder-averaged target energy
   are dropped from every ladder (a remaining drift shows up there first).
2. Populations: per-ladder mode fractions ``f_l``; the estimate is their mean and its
   standard error ``std_l(f_l) / sqrt(L)`` — no correlation-time model is involved. A
   single ladder has no spread: its errors (populations, their covariance, the energy)
   come from the effective sample count ``n / g`` of step 4 instead.
3. Free-energy differences ``ΔF_{a→b} = −kT ln(p_b / p_a)``, error propagated to first
   order with the between-ladder covariance of ``(p_a, p_b)``.
4. Statistical inefficiency ``g`` as in :mod:`systems.reference.stats` (pymbar, chains
   pooled, the largest of the energy's and the mode indicators'), with ``n_eff = n / g``
   and the binomial errors ``sqrt(p (1 − p) / n_eff)`` it implies, reported for comparison.
5. Drift check: per mode, the second half's population minus the first half's, with its
   between-ladder standard error. Every ladder starts from the same structure, so a slow
   relaxation that the burn-in did not cover biases all ladders alike, which the spread
   cannot show; a difference of several standard errors here reveals it.
6. Start check, when the ladders began from several structures (ladder ``l`` from
   structure ``l % S``): each start group's populations, and each group's difference
   from group 0 with the combined standard error. Groups started in different modes
   relax towards equilibrium from opposite sides, so their agreement is the evidence that
   the burn-in was long enough, and their disagreement bounds the remaining bias.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np

from systems.reference.ladder_mbar import state_inefficiency
from systems.reference.populations import (
    LIMITS_NOTE,
    population_sems,
    population_table,
    resolution_floor,
    withheld_below_min_frames,
)
from systems.reference.stats import stats_units
from systems.reference.timeseries import equilibration_start

__all__ = [
    "ERROR_METHOD",
    "half_differences",
    "independent_ladder_stats",
    "ladder_populations",
    "start_differences",
]

ERROR_METHOD = (
    "standard errors from the spread of independent ladders: std over ladders of the "
    "per-ladder mean, divided by sqrt(number of ladders); free-energy differences by "
    "first-order propagation with the between-ladder covariance of the populations (with "
    "a single ladder: binomial errors from n_eff = n/g instead)"
    "; " + LIMITS_NOTE
)


def ladder_populations(labels: np.ndarray, n_modes: int) -> tuple[np.ndarray, np.ndarray]:
    """Mode populations ``(M,)`` and their covariance ``(M, M)`` from independent ladders.

    Arguments:
        labels: ``(T, L)`` integer mode labels, ``T`` frames of ``L`` independent ladders.
        n_modes: number of modes ``M``.

    Returns:
        The mean over ladders of the per-ladder fractions, and the covariance of that mean
        (between-ladder covariance over ``L``; NaN with a single ladder).
    """
    labels = np.asarray(labels)
    fractions = np.stack([(labels == mode).mean(axis=0) for mode in range(n_modes)], axis=1)
    n_ladders = fractions.shape[0]
    if n_ladders < 2:
        return fractions.mean(axis=0), np.full((n_modes, n_modes), np.nan)
    return fractions.mean(axis=0), np.cov(fractions, rowvar=False, ddof=1).reshape(
        n_modes, n_modes
    ) / n_ladders


def half_differences(labels: np.ndarray, mode_names: Sequence[str]) -> dict[str, dict[str, float]]:
    """``{mode: {"mean", "sem"}}``: second-half minus first-half population of ``(T, L)`` labels.

    The standard error is the spread of the ``L`` per-ladder differences over ``sqrt(L)``
    (NaN with a single ladder); both are NaN with fewer than two frames.
    """
    labels = np.asarray(labels)
    if labels.shape[0] < 2:
        return {name: {"mean": float("nan"), "sem": float("nan")} for name in mode_names}
    half = labels.shape[0] // 2
    table = {}
    for mode, name in enumerate(mode_names):
        indicator = (labels == mode).astype(np.float64)
        difference = indicator[half:].mean(axis=0) - indicator[:half].mean(axis=0)
        sem = difference.std(ddof=1) / np.sqrt(difference.size) if difference.size > 1 else np.nan
        table[name] = {"mean": float(difference.mean()), "sem": float(sem)}
    return table


def start_differences(
    labels: np.ndarray, start_of_ladder: np.ndarray, mode_names: Sequence[str]
) -> dict[str, dict]:
    """Populations of each start group of ladders, and each group's difference from group 0.

    Arguments:
        labels: ``(T, L)`` integer mode labels of ``L`` independent ladders.
        start_of_ladder: ``(L,)`` index of the structure each ladder started from.
        mode_names: names of the labels ``0 .. M−1``.

    Returns:
        ``{"populations": {"start k": {mode: {mean, sem}}}, "differences": {"start k - start
        0": {mode: {mean, sem}}}}``, standard errors from the spread within each group.
    """
    labels = np.asarray(labels)
    start_of_ladder = np.asarray(start_of_ladder)
    groups = {}
    for start in np.unique(start_of_ladder):
        populations, covariance = ladder_populations(
            labels[:, start_of_ladder == start], len(mode_names)
        )
        groups[int(start)] = (populations, np.sqrt(np.diag(covariance)))
    first = min(groups)
    first_mean, first_sem = groups[first]
    return {
        "populations": {
            f"start {start}": population_table(mean, sem, mode_names)
            for start, (mean, sem) in groups.items()
        },
        "differences": {
            f"start {start} - start {first}": population_table(
                mean - first_mean, np.hypot(sem, first_sem), mode_names
            )
            for start, (mean, sem) in groups.items()
            if start != first
        },
    }


def _free_energy_differences(
    populations: np.ndarray, covariance: np.ndarray, kT: float, mode_names: Sequence[str]
) -> dict[str, dict[str, float]]:
    table = {}
    for a, b in combinations(range(len(mode_names)), 2):
        p_a, p_b = populations[a], populations[b]
        mean, sem = np.inf, np.inf
        if p_a > 0.0 and p_b > 0.0:
            mean = -kT * np.log(p_b / p_a)
            variance = (
                covariance[a, a] / p_a**2
                + covariance[b, b] / p_b**2
                - 2.0 * covariance[a, b] / (p_a * p_b)
            )
            sem = kT * np.sqrt(max(variance, 0.0))
        table[f"{mode_names[a]}->{mode_names[b]}"] = {"mean": float(mean), "sem": float(sem)}
    return table


def independent_ladder_stats(
    energies: np.ndarray,
    labels: np.ndarray,
    mode_names: Sequence[str],
    system: str,
    temperature: float,
    beta: float,
    start_of_ladder: np.ndarray | None = None,
) -> dict:
    """The statistics of ``L`` independent ladders' target-temperature series, JSON-ready.

    Arguments:
        energies: ``(T, L)`` potential energies in kJ/mol of the recorded frames.
        labels: ``(T, L)`` integer mode labels of the same frames.
        mode_names: names of the labels ``0 .. M−1``.
        system: name written into the result.
        temperature: target temperature in K.
        beta: ``1/(k_B T)`` in mol/kJ.
        start_of_ladder: ``(L,)`` index of each ladder's starting structure; with more
            than one, the result also holds ``starts`` (:func:`start_differences`).

    Returns:
        ``{system, temperature, energy_unit, units`` (``stats_units``), ``n_frames, n_chains,
        equilibration_frames,
        statistical_inefficiency, n_effective, error_method, energy {mean, sem},
        populations {mode: {mean, sem}}, binomial_sem {mode: s},
        free_energy_differences {"a->b": {mean, sem}}, drift {mode: {mean, sem}}}``
        (:func:`half_differences`); ``n_frames`` counts all recorded
        frames of all ladders, the statistics use those after ``equilibration_frames``.
    """
    energies = np.asarray(energies, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    n_frames, n_ladders = energies.shape
    n_modes = len(mode_names)
    start = equilibration_start(energies.mean(axis=1)) if n_frames else 0
    energies, labels = energies[start:], labels[start:]
    populations, covariance = ladder_populations(labels, n_modes)
    g = state_inefficiency(energies.T, labels.T, n_modes)
    n_effective = energies.size / g
    ladder_energies = energies.mean(axis=0)
    if n_ladders > 1:
        energy_sem = ladder_energies.std(ddof=1) / np.sqrt(n_ladders)
    else:
        # no spread between ladders to measure: the effective sample count's errors
        covariance = (np.diag(populations) - np.outer(populations, populations)) / n_effective
        energy_sem = energies.std() / np.sqrt(n_effective)
    stats = {
        "system": system,
        "temperature": float(temperature),
        "energy_unit": "kJ/mol",
        "units": stats_units("kJ/mol", mbar=False),
        "n_frames": int(n_frames * n_ladders),
        "n_chains": int(n_ladders),
        "equilibration_frames": int(start),
        "statistical_inefficiency": float(g),
        "n_effective": float(n_effective),
        "error_method": ERROR_METHOD,
        "energy": {"mean": float(ladder_energies.mean()), "sem": float(energy_sem)},
        "populations": population_table(
            populations,
            np.maximum(np.sqrt(np.diag(covariance)), resolution_floor(populations, n_effective)),
            mode_names,
        ),
        "binomial_sem": {
            name: float(sem)
            for name, sem in zip(mode_names, population_sems(populations, n_effective), strict=True)
        },
        "free_energy_differences": withheld_below_min_frames(
            _free_energy_differences(populations, covariance, 1.0 / beta, mode_names),
            n_effective,
            labels.size,
        ),
        "drift": half_differences(labels, mode_names),
    }
    if start_of_ladder is not None and len(np.unique(start_of_ladder)) > 1:
        stats["starts"] = start_differences(labels, start_of_ladder, mode_names)
    return stats
