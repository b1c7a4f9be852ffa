"""Mode populations under deterministic hydrogen placement, from reference frames.

References:
    L. Felardos, *Data-free Generation of Molecular Configurations with Normalizing
    Flows*, PhD thesis, 2022, §3.3 and App. A.2, eqs 84-87 (dialanine: C7ax 6 % in the
    data, ≈1.2 % under hydrogen minimisation, §6.5.2).

A generator whose hydrogens sit at their energy minimum ``x^H*(x^C)`` targets the
heavy-atom density ``p̄(x^C) ∝ exp(−β U(x^C, x^H*(x^C)))`` (eq 84), not the physical
marginal ``∫ exp(−β U(x^C, x^H)) dx^H``. Eq 87 estimates its mode probabilities from
physical frames ``x_i = (x^C_i, x^H_i)`` by self-normalised importance sampling::

    P̂(M) = Σ_{i ∈ M} w_i / Σ_i w_i,
    w_i  = exp(−β U(x^C_i, x^H*_i)) / exp(−β U(x_i)) · K(x^H_i | x^H*_i)

with ``x^H*_i`` the hydrogens of frame ``i`` minimised with its heavy atoms fixed,
``U`` the exact physical energy (no clipping, no alignment penalty) and ``K`` a
normalised kernel standing for the Dirac of eq 85 (the thesis: an isotropic Gaussian
of width ``σ``, eq 86b). No Laplace or harmonic correction appears in eq 87; the
kernel's normalisation (a constant for the isotropic one) is kept. Since
``E[w | x^C] = p̄(x^C) / p(x^C)`` for *every* normalised ``K`` (the conditional density
of ``x^H`` cancels), any such kernel gives the same limit; only the variance changes.
The isotropic kernel has finite variance only for ``σ² < 2 / (β λ_max)`` (``λ_max`` the
stiffest hydrogen curvature, ~3e5 kJ/mol/nm²: ``σ`` < 4 pm at 300 K), far narrower
than the soft directions (methyl torsions): on 25,600 butane frames its Kish effective
sample size is 2-4 frames (the thesis's "very high variance", fn 84). The ``internal``
kernel (:mod:`systems.reference.hydrogen_kernels`) follows the harmonic conditional
density in hydrogen internal coordinates and keeps most of the frames.

Hydrogens are minimised from each frame's own positions, so ``x^H*`` is the minimum
of the basin holding ``x^H``. Methyl rotamers are permutation-equivalent minima (the
same point set, equal energies), so every one counts alike, a constant factor that
cancels, as long as the kernel's mass stays in the basin (hence the internal kernel's
width cap).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import torch

from forcefields.errors import ConfigError, UnknownNameError
from forcefields.units import beta_from_temperature
from systems.reference.hydrogen_kernels import (
    hydrogen_hessian,
    hydrogen_zmatrix,
    internal_log_kernel,
    isotropic_log_kernel,
)
from systems.reference.hydrogen_minimisation import minimise_hydrogens
from systems.reference.timeseries import as_chains, statistical_inefficiency

__all__ = [
    "KERNELS",
    "hydrogen_minimised_log_weights",
    "hydrogen_minimised_populations",
    "minimised_hydrogens",
    "weighted_populations",
    "kish_effective_size",
]

KERNELS = ("internal", "isotropic")

MAX_ITERATIONS = 2000
"""L-BFGS iterations allowed per batch: dialanine's nearly free methyl rotors need ~1000."""

MAX_RESIDUAL_FORCE = 1.0
"""Largest hydrogen force (kJ/mol/nm) accepted at a minimum before warning."""

MIN_EFFECTIVE_SIZE = 50.0
"""Below this Kish effective sample size the populations' error bars are not trusted."""


def minimised_hydrogens(system, frames, batch_size: int = 1024, **minimise_options):
    """``frames`` ``(M, N, 3)`` nm (float64) with each frame's hydrogens minimised from their
    own positions, heavy atoms fixed: ``x^H*`` of eq 84.

    Arguments:
        system: a molecular :class:`systems.System` (exact energy, no clipping).
        frames: ``(M, N, 3)`` nm.
        batch_size, minimise_options: passed to :func:`minimise_hydrogens`
            (``max_iterations`` defaults to :data:`MAX_ITERATIONS`).

    Warns (``RuntimeWarning``) when a hydrogen force above :data:`MAX_RESIDUAL_FORCE`
    remains.
    """
    energy = system.energy(dtype=torch.float64)
    x = torch.as_tensor(np.asarray(frames), dtype=torch.float64)
    energy.check_coordinates(x)
    hydrogens = torch.as_tensor(system.hydrogens, dtype=torch.long)
    options = {"max_iterations": MAX_ITERATIONS, **minimise_options}
    centre = minimise_hydrogens(energy, x, hydrogens, batch_size=batch_size, **options)
    _warn_unconverged(energy, centre, hydrogens)
    return centre


def _warn_unconverged(energy, centre: torch.Tensor, hydrogens: torch.Tensor) -> None:
    residual = float(energy.forces(centre)[:, hydrogens].abs().max())
    if residual > MAX_RESIDUAL_FORCE:
        warnings.warn(
            f"hydrogen forces up to {residual:.3g} kJ/mol/nm after minimisation "
            "(not converged: raise max_iterations)",
            RuntimeWarning,
            stacklevel=3,
        )


def hydrogen_minimised_log_weights(
    system,
    frames,
    temperature: float | None = None,
    kernel: str = "internal",
    sigma: float | None = None,
    minimised=None,
    batch_size: int = 1024,
    **minimise_options,
) -> np.ndarray:
    """Log importance weights ``log w_i`` ``(M,)`` of thesis eq 87 (up to one constant).

    Arguments:
        system: a molecular :class:`systems.System`.
        frames: ``(M, N, 3)`` nm, samples of the physical Boltzmann distribution.
        temperature: K; default the system's (``β`` of the weights).
        kernel: ``"internal"`` or ``"isotropic"`` (eq 86b verbatim, needs ``sigma``).
        sigma: width of the isotropic kernel, nm.
        minimised: the frames with minimised hydrogens ``(M, N, 3)``, if already known.
        batch_size, minimise_options: passed to :func:`minimise_hydrogens`
            (``max_iterations`` defaults to :data:`MAX_ITERATIONS`).

    Example:
        >>> import systems
        >>> butane = systems.load("butane")
        >>> hydrogen_minimised_log_weights(butane, butane.positions[None]).shape
        (1,)
    """
    if kernel not in KERNELS:
        raise UnknownNameError(f"A.2 kernel {kernel!r}: expected one of {KERNELS}")
    if kernel == "isotropic" and sigma is None:
        raise ConfigError("A.2 kernel 'isotropic': sigma (nm) is required")
    beta = system.beta if temperature is None else beta_from_temperature(temperature)
    energy = system.energy(dtype=torch.float64)
    x = torch.as_tensor(np.asarray(frames), dtype=torch.float64)
    energy.check_coordinates(x)
    hydrogens = torch.as_tensor(system.hydrogens, dtype=torch.long)
    if minimised is None:
        centre = minimised_hydrogens(system, x, batch_size, **minimise_options)
    else:
        centre = torch.as_tensor(np.asarray(minimised), dtype=torch.float64)
        energy.check_coordinates(centre)
        _warn_unconverged(energy, centre, hydrogens)
    with torch.no_grad():
        log_ratio = beta * (energy(x) - energy(centre))
    if kernel == "isotropic":
        log_kernel = isotropic_log_kernel(x, centre, hydrogens, sigma)
    else:
        zmatrix = torch.as_tensor(hydrogen_zmatrix(system))
        hessian = hydrogen_hessian(energy, centre, zmatrix[:, 0])
        log_kernel = internal_log_kernel(x, centre, zmatrix, hessian, beta)
    return (log_ratio + log_kernel).numpy()


def weighted_populations(
    log_weights: np.ndarray,
    labels: np.ndarray,
    mode_names: Sequence[str],
    chains: int = 1,
    inefficiency: float | None = None,
) -> dict[str, dict[str, float]]:
    """Self-normalised populations ``{mode: {"mean": p, "sem": s}}`` of weighted frames.

    Arguments:
        log_weights: ``(M,)``; labels: integer modes ``(M,)`` indexing ``mode_names``.
        chains: the frames are this many consecutive, equally long time series.
        inefficiency: statistical inefficiency ``g`` of the frames (e.g. the reference's
            ``stats.json``); default: estimated per mode (pymbar) from the linearised
            series ``r_i = w_i (1_M(i) − p) / w̄``.

    ``sem² = g · mean(r²) / M`` (delta method for the ratio of weighted means).
    Warns when the Kish effective sample size is below :data:`MIN_EFFECTIVE_SIZE`.
    """
    log_weights = np.asarray(log_weights, dtype=np.float64).reshape(-1)
    labels = np.asarray(labels).reshape(-1)
    n_frames, n_modes = log_weights.size, len(mode_names)
    if labels.size != n_frames or n_frames == 0 or n_frames % chains:
        raise ConfigError(f"A.2 populations: {labels.size} labels, {n_frames} weights, {chains=}")
    if not np.isfinite(log_weights).all():
        raise ValueError("A.2 populations: non-finite log weights")
    if labels.min() < 0 or labels.max() >= n_modes:
        raise ConfigError(f"A.2 populations: labels outside [0, {n_modes})")
    weights = np.exp(log_weights - log_weights.max())
    weights /= weights.mean()
    effective = kish_effective_size(log_weights)
    if effective < MIN_EFFECTIVE_SIZE:
        warnings.warn(
            f"A.2 weights: Kish effective sample size {effective:.1f} of {n_frames} frames; "
            "populations and standard errors are unreliable",
            RuntimeWarning,
            stacklevel=2,
        )
    table = {}
    for mode, name in enumerate(mode_names):
        inside = labels == mode
        p = float(weights[inside].sum() / n_frames)
        residual = weights * (inside - p)
        g = inefficiency
        if g is None:
            g = statistical_inefficiency(as_chains(residual.reshape(chains, -1)))
        table[name] = {"mean": p, "sem": math.sqrt(g * np.mean(residual**2) / n_frames)}
    return table


def kish_effective_size(log_weights: np.ndarray) -> float:
    """Kish effective sample size ``(Σ w)² / Σ w²`` of log weights ``(M,)``."""
    log_weights = np.asarray(log_weights, dtype=np.float64)
    weights = np.exp(log_weights - log_weights.max())
    return float(weights.sum() ** 2 / np.square(weights).sum())


def hydrogen_minimised_populations(
    system,
    frames,
    temperature: float | None = None,
    kernel: str = "internal",
    sigma: float | None = None,
    chains: int = 1,
    inefficiency: float | None = None,
    **options,
) -> dict[str, dict[str, float]]:
    """Mode populations ``{mode: {"mean", "sem"}}`` expected under H minimisation (eq 87).

    Arguments:
        system: a molecular :class:`systems.System` with modes.
        frames: ``(M, N, 3)`` nm physical samples at ``temperature`` (default the
            system's), ordered as ``chains`` consecutive time series.
        kernel, sigma: see :func:`hydrogen_minimised_log_weights`.
        inefficiency: see :func:`weighted_populations`.
        options: ``minimised``, ``batch_size`` and :func:`minimise_hydrogens` options.

    Example (a sketch: ``frames`` are the caller's heavy-atom samples)::

        pops = hydrogen_minimised_populations(systems.load("butane"), frames)
        pops["trans"]  # {"mean": ..., "sem": ...}
    """
    log_weights = hydrogen_minimised_log_weights(
        system, frames, temperature, kernel, sigma, **options
    )
    labels = np.asarray(system.modes(np.asarray(frames, dtype=np.float64)))
    return weighted_populations(log_weights, labels, system.mode_names, chains, inefficiency)
