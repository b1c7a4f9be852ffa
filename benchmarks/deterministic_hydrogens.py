"""Deterministic-hydrogen generators held against the App. A.2 estimate of their target.

A generator with ``flow.hydrogens: deterministic`` places the hydrogens with a network
``G^H`` trained towards their energy minimum ``x^H*(x^C)``; it targets (thesis App. A.2,
eq 84) ``p̄(x^C) ∝ exp(−β U(x^C, x^H*(x^C)))``, whose mode populations
``benchmarks.hydrogen_minimised_reference`` estimates from the reference frames (eq 87).
Three estimates of the generator's populations are compared with it:

* ``raw``: the fraction of samples in each mode (binomial standard error);
* ``reweighted``: with the samples' ``log_weight`` ``−β U(x^C, G^H(x^C)) − log p_G(x^C)``,
  towards the density that ``G^H``'s own hydrogens define (``p̄`` if ``G^H`` is exact);
* ``minimised``: with ``log_weight + β (U(x) − U(x^C, x^H*))``, the hydrogens of each
  sample minimised from where ``G^H`` put them, towards ``p̄`` itself.

Every comparison is ``z = (generated − A.2) / sqrt(sem² + sem_A.2²)``.
"""

from __future__ import annotations

import numpy as np
import torch

from molgen.estimate.ess import kish_ess
from molgen.estimate.report import comparison_entry, population_entry
from molgen.estimate.states import state_populations

__all__ = ["ESTIMATES", "a2_comparison", "a2_table", "minimised_log_weights"]

ESTIMATES = ("raw", "reweighted", "minimised")


def minimised_log_weights(
    system, frames: np.ndarray, log_weight: np.ndarray, energy: np.ndarray
) -> np.ndarray:
    """Log weights ``(M,)`` towards ``p̄``: ``log_weight + β (energy − U(x^C, x^H*))``.

    Arguments:
        system: the molecule.
        frames: ``(M, N, 3)`` nm generated samples (heavy atoms and ``G^H``'s hydrogens).
        log_weight, energy: their sidecar arrays ``(M,)`` (``energy`` physical, kJ/mol).
    """
    from systems.reference.hydrogen_minimised_modes import minimised_hydrogens

    with torch.no_grad():
        minimum = system.energy(dtype=torch.float64)(minimised_hydrogens(system, frames)).numpy()
    return np.asarray(log_weight) + system.beta * (np.asarray(energy) - minimum)


def a2_comparison(
    labels: np.ndarray, mode_names: list[str], log_weights: dict[str, np.ndarray], a2: dict
) -> dict:
    """``{"ess": {estimate: Kish ESS}, "populations": {estimate: {mode: {"mean", "sem",
    "trusted", "a2", "comparison"}}}}``.

    Arguments:
        labels: ``(M,)`` integer modes of the samples.
        mode_names: names of the labels.
        log_weights: ``{"reweighted": (M,), "minimised": (M,)}`` (either may be absent).
        a2: the JSON of ``benchmarks.hydrogen_minimised_reference``.
    """
    table, ess = {}, {}
    for estimate in ESTIMATES:
        if estimate != "raw" and estimate not in log_weights:
            continue
        log_w = None if estimate == "raw" else log_weights[estimate]
        ess[estimate] = float(len(labels)) if log_w is None else kish_ess(log_w)
        populations = state_populations(labels, mode_names, log_w)
        rows = {}
        for mode in mode_names:
            entry = population_entry(populations[mode])
            reference = a2["populations"][mode]
            rows[mode] = {
                **entry,
                "a2": reference,
                "comparison": comparison_entry(
                    entry["mean"], entry["sem"], reference["mean"], reference["sem"]
                ),
            }
        table[estimate] = rows
    return {"ess": ess, "populations": table}


def _cell(entry: dict) -> str:
    if entry["mean"] is None:
        return "untrusted"
    z = entry["comparison"]["z"]
    return f"{entry['mean']:.4f} ± {entry['sem']:.4f} (z = {z:+.2f})"


def a2_table(comparison: dict, a2: dict) -> list[str]:
    """Markdown lines: one row per mode, one column per estimate, then the A.2 value."""
    table = comparison["populations"]
    estimates = list(table)
    ess = ", ".join(f"{name} {value:.0f}" for name, value in comparison["ess"].items())
    lines = [
        f"Against the App. A.2 estimate of p̄ ({a2['frames']} reference frames, "
        f"Kish ESS {a2['kish_ess']:.0f}); Kish ESS of the samples: {ess}.",
        "",
        "| state | " + " | ".join(estimates) + " | A.2 |",
        "|---|" + "---|" * (len(estimates) + 1),
    ]
    for mode, reference in a2["populations"].items():
        cells = [_cell(table[estimate][mode]) for estimate in estimates]
        a2_cell = f"{reference['mean']:.4f} ± {reference['sem']:.4f}"
        lines.append(f"| {mode} | " + " | ".join(cells) + f" | {a2_cell} |")
    return lines + [""]
