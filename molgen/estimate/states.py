"""Populations of conformational states and free-energy differences between them.

From labels of samples with importance weights (generator samples, thesis eq 9) or
without (MD / parallel-tempering frames, a time series when ``correlated``):

- population ``P_a = Σ_i w̄_i 1[s_i = a]``, error from influence terms
  ``w̄_i (1[s_i = a] − P_a)``;
- ``ΔF_{a→b} = F_b − F_a = −kT ln(P_b / P_a)``, error from influence terms
  ``kT w̄_i (1[s_i = a]/P_a − 1[s_i = b]/P_b)``. For equal, independent weights this is
  ``kT sqrt((1/P_a + 1/P_b)/n)``, the error ``stats.json`` of a reference run reports.

Values are withheld (``trusted=False``, with the reason) when the sample as a whole is too
poor (the ESS below the :class:`~molgen.estimate.ess.EssThreshold`) and, state by state,
when a state holds fewer than :data:`MIN_STATE_ESS` effective samples: its Kish ESS
``(Σ_{i∈a} w_i)² / Σ_{i∈a} w_i²``. For a time series both ESS are divided by the
statistical inefficiency ``g`` of the weights and the state indicators ``1[s_i = a]``
(the largest over states, :func:`~molgen.estimate.ess.series_inefficiency`), so frames
that stay in their states for long stretches count as few samples.

Names ``"a->b"`` follow the reference's ``free_energy_differences`` keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from forcefields.errors import ConfigError, UnknownNameError
from molgen.estimate.ess import DEFAULT_THRESHOLD, EssThreshold, kish_ess, series_inefficiency
from molgen.estimate.influence import influence_stderr
from molgen.estimate.logspace import as_log_weights, normalized_weights
from molgen.estimate.result import Estimate, untrusted

__all__ = [
    "MIN_STATE_ESS",
    "group_states",
    "state_free_energies",
    "state_free_energy",
    "state_index",
    "state_indicators",
    "state_populations",
]

MIN_STATE_ESS = 10.0
"""Least effective samples in a state at which its population, or a ``ΔF`` involving it,
is given. Below ten a state's share rests on a handful of samples: its relative error is
at least ``1/sqrt(10) ≈ 30 %`` and the delta-method error bar is itself too noisy to
judge the value by (a state holding one sample of 10,000 would get ``P = 1e-4 ± 1e-4``)."""


def state_index(state_names: Sequence[str], state: str) -> int:
    """Label of ``state`` in ``state_names``; raises :class:`UnknownNameError` if absent."""
    if state not in state_names:
        raise UnknownNameError(f"state {state!r}: unknown (known: {', '.join(state_names)})")
    return list(state_names).index(state)


def state_indicators(labels: np.ndarray, n_states: int) -> np.ndarray:
    """Indicators ``1[s_i = a]`` ``(n_states, n)`` (float) of integer labels ``(n,)``."""
    labels = np.asarray(labels).reshape(-1)
    return (labels[None, :] == np.arange(n_states)[:, None]).astype(np.float64)


@dataclass(frozen=True)
class _WeightedStates:
    """Labels ``(n,)``, normalised weights ``(n,)``, indicators ``(K, n)``, each state's
    effective sample count ``(K,)`` and the refusal of the whole sample (``""``: none)."""

    labels: np.ndarray
    weights: np.ndarray
    inside: np.ndarray
    state_ess: np.ndarray
    refusal: str

    def state_refusal(self, state_names: Sequence[str], index: int) -> str:
        """Why state ``index`` holds too few effective samples, or ``""``."""
        ess = float(self.state_ess[index])
        if ess >= MIN_STATE_ESS:
            return ""
        return (
            f"too few samples in state {state_names[index]!r}: effective sample size "
            f"{ess:.1f} < {MIN_STATE_ESS:g}"
        )


def _checked_labels(labels: np.ndarray, n_states: int) -> np.ndarray:
    """``labels`` as an ``(n,)`` integer array, or a :class:`ConfigError` unless every
    label lies in ``[0, n_states)``."""
    labels = np.asarray(labels).reshape(-1)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ConfigError(f"state labels: integer labels expected, got {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_states):
        raise ConfigError(f"state labels: values outside [0, {n_states})")
    return labels


def _weighted_states(
    labels: np.ndarray,
    n_states: int,
    log_w: np.ndarray | None,
    threshold: EssThreshold,
    correlated: bool,
) -> _WeightedStates:
    labels = _checked_labels(labels, n_states)
    log_w = as_log_weights(log_w, labels.size)
    weights = normalized_weights(log_w)
    inside = state_indicators(labels, n_states)
    g = series_inefficiency(log_w, inside) if correlated else 1.0
    refusal = threshold.refusal(kish_ess(log_w) / g, labels.size)
    sums, squares = inside @ weights, inside @ weights**2
    state_ess = np.divide(sums**2, squares, out=np.zeros(n_states), where=squares > 0) / g
    return _WeightedStates(labels, weights, inside, state_ess, refusal)


def state_populations(
    labels: np.ndarray,
    state_names: Sequence[str],
    log_w: np.ndarray | None = None,
    correlated: bool = False,
    threshold: EssThreshold = DEFAULT_THRESHOLD,
) -> dict[str, Estimate]:
    """Population of each state with its standard error.

    Arguments:
        labels: integer state labels ``(n,)`` in ``[0, len(state_names))``.
        state_names: names of labels ``0, 1, ...``.
        log_w: unnormalised log importance weights ``(n,)``; ``None`` for equal weights.
        correlated: the labels are a time series; errors include its statistical
            inefficiency, and so do the effective sample sizes (see the module docstring).
        threshold: least effective sample size at which values are given.

    Returns:
        ``{state: Estimate}`` (fractions in ``[0, 1]``); every entry untrusted when the ESS
        is below ``threshold``, and an entry untrusted when its state holds fewer than
        :data:`MIN_STATE_ESS` effective samples.
    """
    weighted = _weighted_states(labels, len(state_names), log_w, threshold, correlated)
    table = {}
    for index, name in enumerate(state_names):
        refusal = weighted.refusal or weighted.state_refusal(state_names, index)
        if refusal:
            table[name] = untrusted(refusal)
            continue
        inside = weighted.inside[index]
        population = float(np.sum(weighted.weights * inside))
        influence = weighted.weights * (inside - population)
        table[name] = Estimate(population, influence_stderr(influence, correlated))
    return table


def state_free_energy(
    labels: np.ndarray,
    state_names: Sequence[str],
    state_from: str,
    state_to: str,
    kT: float = 1.0,
    log_w: np.ndarray | None = None,
    correlated: bool = False,
    threshold: EssThreshold = DEFAULT_THRESHOLD,
) -> Estimate:
    """``ΔF = F_to − F_from = −kT ln(P_to / P_from)`` with its propagated standard error.

    Arguments:
        labels, state_names, log_w, correlated, threshold: as in :func:`state_populations`.
        state_from, state_to: state names.
        kT: thermal energy in the unit wanted (kJ/mol: ``1/β``; 1 gives units of kT).

    Returns:
        :class:`Estimate` in the unit of ``kT``; untrusted when the ESS is below
        ``threshold``, either state holds no weight, or either holds fewer than
        :data:`MIN_STATE_ESS` effective samples.
    """
    index_from = state_index(state_names, state_from)
    index_to = state_index(state_names, state_to)
    weighted = _weighted_states(labels, len(state_names), log_w, threshold, correlated)
    if weighted.refusal:
        return untrusted(weighted.refusal)
    inside_from, inside_to = weighted.inside[index_from], weighted.inside[index_to]
    weights = weighted.weights
    p_from, p_to = float(np.sum(weights * inside_from)), float(np.sum(weights * inside_to))
    if p_from <= 0.0 or p_to <= 0.0:
        empty = state_from if p_from <= 0.0 else state_to
        return untrusted(f"no sample weight in state {empty!r}")
    refusal = weighted.state_refusal(state_names, index_from) or weighted.state_refusal(
        state_names, index_to
    )
    if refusal:
        return untrusted(refusal)
    influence = kT * weights * (inside_from / p_from - inside_to / p_to)
    return Estimate(-kT * float(np.log(p_to / p_from)), influence_stderr(influence, correlated))


def state_free_energies(
    labels: np.ndarray,
    state_names: Sequence[str],
    kT: float = 1.0,
    log_w: np.ndarray | None = None,
    states: Sequence[str] | None = None,
    correlated: bool = False,
    threshold: EssThreshold = DEFAULT_THRESHOLD,
) -> dict[str, Estimate]:
    """``{"a->b": ΔF}`` (:func:`state_free_energy`) for every pair ``a`` before ``b`` of ``states``.

    ``states`` defaults to all of ``state_names``; with two names, one difference.
    """
    chosen = list(state_names) if states is None else list(states)
    for state in chosen:
        state_index(state_names, state)
    return {
        f"{a}->{b}": state_free_energy(labels, state_names, a, b, kT, log_w, correlated, threshold)
        for a, b in combinations(chosen, 2)
    }


def group_states(
    labels: np.ndarray, state_names: Sequence[str], groups: dict[str, Sequence[str]]
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Merge states into named groups, e.g. ``{"gauche": ["gauche+", "gauche-"]}``.

    Arguments:
        labels: integer labels ``(n,)`` named by ``state_names``.
        state_names: names of labels ``0, 1, ...``.
        groups: new state name → the existing states it joins (each used at most once).

    Returns:
        ``(labels, names)``: new labels ``(n,)`` named by ``names`` = the group names, then
        the states in no group, in their original order.
    """
    labels = _checked_labels(labels, len(state_names))
    members = [state for group in groups.values() for state in group]
    for state in members:
        state_index(state_names, state)
    if len(set(members)) != len(members):
        raise ConfigError(f"state groups: a state is in more than one group {dict(groups)}")
    clashes = set(groups) & (set(state_names) - set(members))
    if clashes:
        raise ConfigError(f"state groups: {sorted(clashes)} already name an ungrouped state")
    names = (*groups, *(name for name in state_names if name not in members))
    mapping = np.empty(len(state_names), dtype=np.int64)
    for old_index, old_name in enumerate(state_names):
        group = next((g for g, states in groups.items() if old_name in states), old_name)
        mapping[old_index] = names.index(group)
    return mapping[labels], names
