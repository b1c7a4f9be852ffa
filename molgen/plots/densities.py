"""Densities of dihedral angles: reweighted samples next to the reference (thesis §6 item 8)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np

from molgen.estimate.logspace import as_log_weights, normalized_weights
from molgen.plots.figure import (
    count_outside,
    new_figure,
    note_outside,
    percentile_bins,
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
_N_MARGINAL_BINS = 80
_ANGLE_BINS = np.linspace(-180.0, 180.0, _N_ANGLE_BINS + 1)
_LOG_RANGE = 1e-5
"""Lowest density shown, relative to the highest (five decades, about 11.5 kT)."""
_FREE_ENERGY_MAX = 10.0
"""Top of the Ramachandran colour scale, in units of kT; higher values are clipped."""
_FREE_ENERGY_CMAP = matplotlib.colormaps["viridis"].with_extremes(bad="white")
"""Colour map of the Ramachandran free energy; empty bins (p = 0) are white."""


def _wrapped_degrees(angle: np.ndarray, start: float) -> np.ndarray:
    """``angle`` ``(n,)`` in radians as float64 degrees in ``[start, start + 360)``; a
    non-finite angle becomes NaN (drawn nowhere, counted as non-finite)."""
    with np.errstate(invalid="ignore"):
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

    The range shown is the reference's 0.5–99.5 % percentiles widened by a quarter of
    their span on each side (without a reference: the samples' percentiles), as for
    :func:`~molgen.plots.energies.plot_energy_histogram`, so that a few samples far out
    cannot squeeze the rest into one bin; how many samples lie outside is written on the
    figure.

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
    bins = percentile_bins(values, reference, _N_MARGINAL_BINS)
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
    and ``reference`` over ``bins`` ``(k + 1,)``, with the count of samples outside them,
    vertical lines at ``boundaries`` and an optional ``title``."""
    weights = (
        None
        if values is None or log_w is None
        else normalized_weights(as_log_weights(log_w, values.size))
    )
    figure, (axis,) = new_figure(width=6.0)  # room for the legend beside the axes
    step_histograms(axis, values, bins, weights, reference)
    note_outside(axis, count_outside(values, bins), "outside this range or non-finite")
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

    Angles on any branch (e.g. [0, 2π)) are wrapped into [-180°, 180°). Empty bins
    (p = 0) are masked and drawn white; values above 10 kT get the top colour (the colour
    bar then has an arrow). Input is checked before a figure is made.

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
    # every surface first: input a histogram refuses must not leave a figure open
    surfaces = [(name, _free_energy(*angles)) for name, *angles in panels]
    clipped = any(
        bool(np.ma.filled(surface > _FREE_ENERGY_MAX, False).any()) for _, surface in surfaces
    )
    figure, axes = new_figure(len(surfaces), width=4.2, height=4.0)
    for axis, (name, surface) in zip(axes, surfaces, strict=True):
        mesh = axis.pcolormesh(
            _ANGLE_BINS,
            _ANGLE_BINS,
            surface,
            cmap=_FREE_ENERGY_CMAP,
            vmin=0.0,
            vmax=_FREE_ENERGY_MAX,
        )
        axis.set_title(name)
        axis.set_xlabel("φ (degrees)")
        axis.set_ylabel("ψ (degrees)")
        axis.set_aspect("equal")
    figure.colorbar(mesh, ax=axes, label="−ln(p / p_max)", extend="max" if clipped else "neither")
    return save_figure(figure, path)


def _free_energy(phi: np.ndarray, psi: np.ndarray, log_w: np.ndarray | None) -> np.ma.MaskedArray:
    """``−ln(p / p_max)`` (kT) on the ψ x φ bins ``(72, 72)``, rows ψ; empty bins masked.

    Arguments:
        phi, psi: dihedrals in radians ``(n,)``, any branch (wrapped into [-180°, 180°)).
        log_w: unnormalised log importance weights ``(n,)``; ``None`` for equal weights.

    Raises:
        ConfigError: ``log_w`` does not hold one weight per angle.
        ValueError: ``phi`` and ``psi`` differ in length.
    """
    phis = _wrapped_degrees(phi, -180.0)
    psis = _wrapped_degrees(psi, -180.0)
    weights = normalized_weights(as_log_weights(log_w, phis.size))
    density, _, _ = np.histogram2d(phis, psis, [_ANGLE_BINS, _ANGLE_BINS], weights=weights)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.ma.masked_invalid(-np.log(density.T / density.max()))
