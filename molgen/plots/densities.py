"""Densities of dihedral angles: reweighted samples next to the reference (thesis §6 item 8)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from molgen.estimate.logspace import as_log_weights, normalized_weights
from molgen.plots.figure import (
    new_figure,
    save_figure,
    step_histograms,
)

__all__ = ["plot_angle_density", "plot_marginal_density", "plot_ramachandran"]

_ANGLE_BINS = np.linspace(-180.0, 180.0, 73)
_LOG_RANGE = 1e-5
"""Lowest density shown, relative to the highest (five decades, about 11.5 kT)."""


def plot_angle_density(
    path: Path | str,
    angle: np.ndarray,
    log_w: np.ndarray | None = None,
    reference_angle: np.ndarray | None = None,
    name: str = "dihedral",
) -> Path:
    """Histogram of a dihedral ``(n,)`` in radians: reweighted, unweighted and the reference.

    Arguments:
        path: PNG file to write.
        angle: sample angles in radians ``(n,)``.
        log_w: unnormalised log importance weights ``(n,)``; ``None`` for equal weights.
        reference_angle: reference angles in radians ``(m,)``, or ``None``.
        name: the angle's name, for the axis label.
    """
    reference = (
        None if reference_angle is None else np.degrees(np.asarray(reference_angle).reshape(-1))
    )
    return _plot_histogram(
        path,
        np.degrees(np.asarray(angle, dtype=np.float64).reshape(-1)),
        _ANGLE_BINS,
        log_w,
        reference,
        (f"{name} (degrees)", "density (1/degree)"),
        log_scale=True,
    )


def plot_marginal_density(
    path: Path | str,
    values: np.ndarray,
    log_w: np.ndarray | None = None,
    reference_values: np.ndarray | None = None,
    name: str = "x_0",
) -> Path:
    """Histogram of one coordinate ``(n,)`` (any unit): reweighted, unweighted and reference.

    Arguments:
        path: PNG file to write.
        values: the coordinate of each sample ``(n,)``.
        log_w: unnormalised log importance weights ``(n,)``; ``None`` for equal weights.
        reference_values: the coordinate of reference frames ``(m,)``, or ``None``.
        name: the coordinate's name, for the axis label.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    reference = (
        None
        if reference_values is None
        else np.asarray(reference_values, dtype=np.float64).reshape(-1)
    )
    pooled = values if reference is None else np.concatenate([values, reference])
    bins = np.linspace(pooled.min(), pooled.max() + 1e-9, 80)
    return _plot_histogram(path, values, bins, log_w, reference, (name, "density"))


def _plot_histogram(
    path: Path | str,
    values: np.ndarray,
    bins: np.ndarray,
    log_w: np.ndarray | None,
    reference: np.ndarray | None,
    labels: tuple[str, str],
    log_scale: bool = False,
) -> Path:
    """Step histograms of ``values`` ``(n,)`` (reweighted and unweighted) and ``reference``."""
    weights = normalized_weights(as_log_weights(log_w, values.size))
    figure, (axis,) = new_figure()
    step_histograms(axis, values, bins, weights, reference)
    if log_scale:
        axis.set_yscale("log")
        top = axis.get_ylim()[1]
        axis.set_ylim(top * _LOG_RANGE, top)
    axis.set_xlabel(labels[0])
    axis.set_ylabel(labels[1])
    axis.legend(fontsize="small")
    return save_figure(figure, path)


def plot_ramachandran(
    path: Path | str,
    phi: np.ndarray,
    psi: np.ndarray,
    log_w: np.ndarray | None = None,
    reference_phi: np.ndarray | None = None,
    reference_psi: np.ndarray | None = None,
    title: str = "samples (reweighted)",
) -> Path:
    """Ramachandran log-density of reweighted samples, next to the reference's.

    Arguments:
        path: PNG file to write.
        phi, psi: sample backbone dihedrals in radians ``(n,)``.
        log_w: unnormalised log importance weights ``(n,)``; ``None`` for equal weights.
        reference_phi, reference_psi: reference dihedrals in radians ``(m,)``, or ``None``.
        title: title of the first panel.
    """
    panels = [(title, phi, psi, log_w)]
    if reference_phi is not None and reference_psi is not None:
        panels.append(("reference", reference_phi, reference_psi, None))
    figure, axes = new_figure(len(panels), width=4.2, height=4.0)
    for axis, (title, phis, psis, log_weights) in zip(axes, panels, strict=True):
        phis = np.degrees(np.asarray(phis, dtype=np.float64).reshape(-1))
        psis = np.degrees(np.asarray(psis, dtype=np.float64).reshape(-1))
        weights = normalized_weights(as_log_weights(log_weights, phis.size))
        density, _, _ = np.histogram2d(phis, psis, [_ANGLE_BINS, _ANGLE_BINS], weights=weights)
        with np.errstate(divide="ignore"):
            free_energy = -np.log(density.T / density.max())
        mesh = axis.pcolormesh(
            _ANGLE_BINS, _ANGLE_BINS, free_energy, cmap="viridis", vmin=0.0, vmax=10.0
        )
        axis.set_title(title)
        axis.set_xlabel("φ (degrees)")
        axis.set_ylabel("ψ (degrees)")
        axis.set_aspect("equal")
    figure.colorbar(mesh, ax=axes, label="−ln(p / p_max)")
    return save_figure(figure, path)
