"""Densities of dihedral angles: reweighted samples next to the reference (thesis §6 item 8)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np

from molgen.estimate.logspace import as_log_weights, normalized_weights
from molgen.plots.figure import (
    new_figure,
    save_figure,
    step_histograms,
)
from systems.observables.butane import BUTANE_MODE_BOUNDARIES

__all__ = [
    "plot_angle_density",
    "plot_butane_dihedral",
    "plot_marginal_density",
    "plot_ramachandran",
]

_N_ANGLE_BINS = 72
_ANGLE_BINS = np.linspace(-180.0, 180.0, _N_ANGLE_BINS + 1)
_LOG_RANGE = 1e-5
"""Lowest density shown, relative to the highest (five decades, about 11.5 kT)."""
_FREE_ENERGY_MAX = 10.0
"""Top of the Ramachandran colour scale, in units of kT; higher values are clipped."""
_FREE_ENERGY_CMAP = matplotlib.colormaps["viridis"].with_extremes(bad="white")
"""Colour map of the Ramachandran free energy; empty bins (p = 0) are white."""


def _wrapped_degrees(angle: np.ndarray, start: float) -> np.ndarray:
    """``angle`` ``(n,)`` in radians as float64 degrees in ``[start, start + 360)``."""
    degrees = np.mod(np.degrees(np.asarray(angle, dtype=np.float64).reshape(-1)) - start, 360.0)
    # np.mod rounds a tiny negative difference up to 360.0 itself.
    return np.where(degrees >= 360.0, 0.0, degrees) + start


def plot_angle_density(
    path: Path | str,
    angle: np.ndarray | None,
    log_w: np.ndarray | None = None,
    reference_angle: np.ndarray | None = None,
    name: str = "dihedral",
    start: float = -180.0,
    boundaries: Sequence[float] = (),
    title: str | None = None,
) -> Path:
    """Histogram of a dihedral ``(n,)`` in radians: reweighted, unweighted and the reference.

    Arguments:
        path: PNG file to write.
        angle: sample angles in radians ``(n,)``, or ``None`` to plot the reference alone.
        log_w: unnormalised log importance weights ``(n,)``; ``None`` draws the samples
            unweighted only.
        reference_angle: reference angles in radians ``(m,)``, or ``None``.
        name: the angle's name, for the axis label.
        start: the axis spans ``[start, start + 360)`` degrees; angles are wrapped into it.
        boundaries: angles in degrees (in that span) marked by vertical lines, e.g. the
            boundaries of conformational modes.
        title: the figure's title, or ``None``.
    """
    return _plot_histogram(
        path,
        None if angle is None else _wrapped_degrees(angle, start),
        np.linspace(start, start + 360.0, _N_ANGLE_BINS + 1),
        log_w,
        None if reference_angle is None else _wrapped_degrees(reference_angle, start),
        (f"{name} (degrees)", "density (1/degree)"),
        log_scale=True,
        boundaries=boundaries,
        title=title,
    )


def plot_butane_dihedral(
    path: Path | str,
    angle: np.ndarray | None,
    log_w: np.ndarray | None = None,
    reference_angle: np.ndarray | None = None,
    title: str | None = None,
) -> Path:
    """:func:`plot_angle_density` of butane's C-C-C-C dihedral as in thesis eq 29.

    The axis spans [0°, 360°), so trans (180°) lies in the middle, and the mode
    boundaries 120° and 240° are marked. Arguments as :func:`plot_angle_density`.
    """
    return plot_angle_density(
        path,
        angle,
        log_w,
        reference_angle,
        name="C-C-C-C dihedral",
        start=0.0,
        boundaries=BUTANE_MODE_BOUNDARIES,
        title=title,
    )


def plot_marginal_density(
    path: Path | str,
    values: np.ndarray | None,
    log_w: np.ndarray | None = None,
    reference_values: np.ndarray | None = None,
    name: str = "x_0",
    title: str | None = None,
) -> Path:
    """Histogram of one coordinate ``(n,)`` (any unit): reweighted, unweighted and reference.

    Arguments:
        path: PNG file to write.
        values: the coordinate of each sample ``(n,)``, or ``None`` to plot the reference
            alone.
        log_w: unnormalised log importance weights ``(n,)``; ``None`` draws the samples
            unweighted only.
        reference_values: the coordinate of reference frames ``(m,)``, or ``None``.
        name: the coordinate's name, for the axis label.
        title: the figure's title, or ``None``.
    """
    values = None if values is None else np.asarray(values, dtype=np.float64).reshape(-1)
    reference = (
        None
        if reference_values is None
        else np.asarray(reference_values, dtype=np.float64).reshape(-1)
    )
    pooled = np.concatenate([part for part in (values, reference) if part is not None])
    pooled = pooled[np.isfinite(pooled)]
    low, high = (pooled.min(), pooled.max()) if pooled.size else (0.0, 1.0)
    bins = np.linspace(low, high + 1e-9, 80)
    return _plot_histogram(path, values, bins, log_w, reference, (name, "density"), title=title)


def _plot_histogram(
    path: Path | str,
    values: np.ndarray | None,
    bins: np.ndarray,
    log_w: np.ndarray | None,
    reference: np.ndarray | None,
    labels: tuple[str, str],
    log_scale: bool = False,
    boundaries: Sequence[float] = (),
    title: str | None = None,
) -> Path:
    """Step histograms of ``values`` ``(n,)`` (reweighted and unweighted; ``None`` for none)
    and ``reference``, with vertical lines at ``boundaries`` and an optional ``title``."""
    weights = (
        None
        if values is None or log_w is None
        else normalized_weights(as_log_weights(log_w, values.size))
    )
    figure, (axis,) = new_figure(width=6.0)  # room for the legend beside the axes
    step_histograms(axis, values, bins, weights, reference)
    if log_scale:
        axis.set_yscale("log")
        top = axis.get_ylim()[1]
        axis.set_ylim(top * _LOG_RANGE, top)
    for number, boundary in enumerate(boundaries):
        axis.axvline(
            boundary,
            color="black",
            linestyle=":",
            linewidth=1,
            label="mode boundary" if number == 0 else None,
        )
    axis.set_xlabel(labels[0])
    axis.set_ylabel(labels[1])
    if title:
        figure.suptitle(title, fontsize="medium")
    axis.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
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
    """Ramachandran free energy ``−ln(p / p_max)`` of reweighted samples, next to the reference's.

    Empty bins (p = 0) are masked and drawn white; values above 10 kT get the top colour
    (the colour bar then has an arrow).

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
    clipped = False
    for axis, (title, phis, psis, log_weights) in zip(axes, panels, strict=True):
        free_energy = _free_energy(phis, psis, log_weights)
        clipped = clipped or bool(np.ma.filled(free_energy > _FREE_ENERGY_MAX, False).any())
        mesh = axis.pcolormesh(
            _ANGLE_BINS,
            _ANGLE_BINS,
            free_energy,
            cmap=_FREE_ENERGY_CMAP,
            vmin=0.0,
            vmax=_FREE_ENERGY_MAX,
        )
        axis.set_title(title)
        axis.set_xlabel("φ (degrees)")
        axis.set_ylabel("ψ (degrees)")
        axis.set_aspect("equal")
    figure.colorbar(mesh, ax=axes, label="−ln(p / p_max)", extend="max" if clipped else "neither")
    return save_figure(figure, path)


def _free_energy(phi: np.ndarray, psi: np.ndarray, log_w: np.ndarray | None) -> np.ma.MaskedArray:
    """``−ln(p / p_max)`` (kT) on the ψ x φ bins ``(72, 72)``, rows ψ; empty bins masked.

    Arguments:
        phi, psi: dihedrals in radians ``(n,)``.
        log_w: unnormalised log importance weights ``(n,)``; ``None`` for equal weights.
    """
    phis = np.degrees(np.asarray(phi, dtype=np.float64).reshape(-1))
    psis = np.degrees(np.asarray(psi, dtype=np.float64).reshape(-1))
    weights = normalized_weights(as_log_weights(log_w, phis.size))
    density, _, _ = np.histogram2d(phis, psis, [_ANGLE_BINS, _ANGLE_BINS], weights=weights)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.ma.masked_invalid(-np.log(density.T / density.max()))
