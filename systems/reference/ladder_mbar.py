"""MBAR over a temperature ladder: free energies and mode populations at every temperature.

Every replica's samples are decorrelated separately (its own statistical inefficiency,
the larger of the energy's and the mode indicators'), pooled, and given to
``pymbar.MBAR`` with reduced potentials ``u_k(x) = β_k U(x)``. Mode populations at
temperature ``k`` are ratios of partition functions: the mode ``m`` is a perturbed state
with ``u_{k,m}(x) = β_k U(x)`` inside the mode and ``+∞`` outside, and
``p_{k,m} = exp(−(f_{k,m} − f_k))``, whose uncertainty MBAR's asymptotic covariance gives.
Frames ``g`` apart are still correlated (about ``e^{-2}`` for an exponential decay), so
every uncertainty is multiplied by the square root of the largest statistical
inefficiency left in the kept frames of any temperature (``residual_inefficiency``).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pymbar

from systems.reference.populations import resolution_floor
from systems.reference.quiet import quiet
from systems.reference.timeseries import decorrelated_indices, statistical_inefficiency

__all__ = ["state_inefficiency", "ladder_mbar"]


def state_inefficiency(energies: np.ndarray, labels: np.ndarray, n_modes: int) -> float:
    """Largest statistical inefficiency of the energy and the mode indicators.

    Arguments:
        energies, labels: ``(C, T)`` chains of one thermodynamic state.
        n_modes: number of mode labels.
    """
    series = [energies] + [(labels == mode).astype(np.float64) for mode in range(n_modes)]
    return max(statistical_inefficiency(values) for values in series)


def ladder_mbar(
    energies: np.ndarray,
    labels: np.ndarray,
    betas: np.ndarray,
    temperatures: Sequence[float],
    mode_names: Sequence[str],
) -> dict:
    """MBAR estimates from the samples of all temperatures of a ladder.

    Arguments:
        energies: ``(T, K, C)`` potential energy of the sample that temperature ``k`` holds at
            frame ``t`` in chain ``c`` (energy unit ``E``), equilibrated frames only.
        labels: ``(T, K, C)`` integer mode labels of the same samples.
        betas: ``(K,)`` inverse temperatures in ``1/E``; ``betas[0]`` is the target.
        temperatures: ``(K,)`` temperatures, only copied into the result.
        mode_names: names of the mode labels ``0 .. M-1``.

    Returns:
        ``{"temperatures", "n_samples" (per temperature after decorrelation),
        "residual_inefficiency" (the largest left in the kept frames; every "sem" is
        multiplied by its square root),
        "free_energies" ([{"mean", "sem"}] of the reduced free energy f_k − f_0 = −ln(Z_k/Z_0)),
        "populations" ([{mode: {"mean", "sem"}}] per temperature),
        "free_energy_differences" ({"a->b": {"mean", "sem"}} at the target, unit E)}``.
    """
    n_frames, n_states, _ = energies.shape
    n_modes = len(mode_names)
    betas = np.asarray(betas, dtype=np.float64)
    sample_energies, sample_labels, counts = [], [], []
    residual = 1.0
    for k in range(n_states):
        g = state_inefficiency(energies[:, k].T, labels[:, k].T, n_modes)
        frames = decorrelated_indices(n_frames, g)
        left = state_inefficiency(energies[frames, k].T, labels[frames, k].T, n_modes)
        residual = max(residual, left)
        sample_energies.append(energies[frames, k].reshape(-1))
        sample_labels.append(labels[frames, k].reshape(-1))
        counts.append(frames.size * energies.shape[2])
    potential = np.concatenate(sample_energies)
    modes = np.concatenate(sample_labels)
    with quiet("pymbar"):
        mbar = pymbar.MBAR(betas[:, None] * potential[None], np.array(counts))

    present = [m for m in range(n_modes) if np.any(modes == m)]
    perturbed = []
    for k in range(n_states):
        reduced = betas[k] * potential
        perturbed.append(reduced)
        perturbed.extend(np.where(modes == m, reduced, np.inf) for m in present)
    with np.errstate(over="ignore", invalid="ignore"):
        result = mbar.compute_perturbed_free_energies(np.array(perturbed))
    delta, error = result["Delta_f"], result["dDelta_f"] * np.sqrt(residual)
    stride = len(present) + 1

    free_energies = [
        {"mean": float(delta[0, k * stride]), "sem": float(error[0, k * stride])}
        for k in range(n_states)
    ]
    populations = []
    for k in range(n_states):
        means, sems = np.zeros(n_modes), np.zeros(n_modes)
        for offset, m in enumerate(present, start=1):
            column = k * stride + offset
            means[m] = np.exp(-delta[k * stride, column])
            sems[m] = means[m] * error[k * stride, column]
        # a mode no sample visits, or one holding them all, gets the error of one
        # effective frame of this temperature's samples rather than none
        sems = np.fmax(sems, resolution_floor(means, counts[k]))
        populations.append(
            {
                name: {"mean": float(means[m]), "sem": float(sems[m])}
                for m, name in enumerate(mode_names)
            }
        )

    kT = 1.0 / betas[0]
    differences = {}
    for a, b in combinations(range(n_modes), 2):
        key = f"{mode_names[a]}->{mode_names[b]}"
        if a in present and b in present:
            i, j = 1 + present.index(a), 1 + present.index(b)
            differences[key] = {"mean": kT * float(delta[i, j]), "sem": kT * float(error[i, j])}
        else:
            differences[key] = {"mean": float("inf"), "sem": float("inf")}
    return {
        "temperatures": [float(t) for t in temperatures],
        "n_samples": [int(n) for n in counts],
        "residual_inefficiency": float(residual),
        "free_energies": free_energies,
        "populations": populations,
        "free_energy_differences": differences,
    }
