"""Several generators side by side on one system (the panels of the thesis's Fig 7, §6 items
1, 2 and 5): mode fraction over training, a marginal against its exact density, and the
``βU_B`` / ``U_G`` correlation, one panel per generator."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from molgen.plots.figure import (
    KEPT_PERCENTILES,
    REFERENCE_COLOR,
    SAMPLE_COLOR,
    new_figure,
    save_figure,
)

__all__ = ["plot_energy_scatter_panels", "plot_fraction_traces", "plot_marginal_panels"]

Trace = tuple[np.ndarray, np.ndarray, np.ndarray]

_MAX_COLUMNS = 4
_TRACE_COLORS = (
    "tab:pink",
    "tab:blue",
    "tab:cyan",
    "tab:green",
    "tab:olive",
    "tab:red",
    "tab:purple",
    "tab:brown",
    "tab:gray",
)
"""Matplotlib's tab10 without orange, which marks the reference (thesis §0); pink first,
the thesis's colour for a pre-training."""


def _panel_grid(count: int, width: float, height: float):
    columns = min(count, _MAX_COLUMNS)
    rows = math.ceil(count / columns)
    figure, axes = new_figure(columns, width, height, n_rows=rows)
    for unused in axes[count:]:
        unused.set_visible(False)
    return figure, axes[:count]


def plot_fraction_traces(
    path: Path | str,
    traces: Mapping[str, Trace],
    reference: float,
    tolerance: float | None = None,
    marks: Mapping[str, float] | None = None,
    ylabel: str = "minor-mode fraction",
    reference_label: str = "reference",
    log_y: bool = False,
    reference_color: str = REFERENCE_COLOR,
) -> Path:
    """A mode fraction (or another per-iteration statistic) versus iteration for several
    runs, with ±1 standard-error bands.

    Arguments:
        path: PNG file to write.
        traces: ``{label: (steps (k,), fractions (k,), standard errors (k,))}``, drawn in
            the colours of ``_TRACE_COLORS`` in order.
        reference: the exact fraction, drawn as an orange dashed line (thesis colour).
        tolerance: if given, the band ``reference ± tolerance`` is shaded grey (a pass/fail
            band, not an error of the reference).
        marks: ``{label: step}`` drawn as dotted vertical lines (e.g. end of pre-training).
        ylabel: the y-axis label.
        reference_label: legend text of the reference line (its value is appended).
        log_y: logarithmic y axis.
        reference_color: colour of the reference line (grey for a baseline that is not
            the target).
    """
    figure, (axis,) = new_figure(width=8.0, height=4.5)
    for (label, (steps, fractions, errors)), color in zip(
        traces.items(), itertools.cycle(_TRACE_COLORS)
    ):
        steps, fractions, errors = (
            np.asarray(a, dtype=np.float64) for a in (steps, fractions, errors)
        )
        axis.plot(steps, fractions, color=color, linewidth=1.2, label=label)
        axis.fill_between(steps, fractions - errors, fractions + errors, color=color, alpha=0.2)
    if tolerance is not None:
        axis.axhspan(
            reference - tolerance,
            reference + tolerance,
            color="grey",
            alpha=0.12,
            label=f"acceptance tolerance ± {tolerance:g}",
        )
    axis.axhline(
        reference, color=reference_color, linestyle="--", label=f"{reference_label} {reference:.3f}"
    )
    for label, step in (marks or {}).items():
        axis.axvline(step, color="grey", linestyle=":", label=label)
    if log_y:
        axis.set_yscale("log")
    axis.set_xlabel("iteration")
    axis.set_ylabel(ylabel)
    axis.legend(fontsize="small")
    return save_figure(figure, path)


def plot_marginal_panels(
    path: Path | str,
    samples: Mapping[str, np.ndarray],
    grid: np.ndarray,
    density: np.ndarray,
    name: str = "x_0",
) -> Path:
    """One panel per generator: histogram of a coordinate against its exact density.

    Arguments:
        path: PNG file to write.
        samples: ``{label: values (n,)}`` of the coordinate (any unit), unweighted samples.
        grid: increasing abscissae ``(g,)``; they also set the histogram range.
        density: the exact marginal density on ``grid`` ``(g,)`` (per unit of ``name``).
        name: the coordinate's name, for the axis label.
    """
    grid = np.asarray(grid, dtype=np.float64)
    bins = np.linspace(grid[0], grid[-1], 81)
    figure, axes = _panel_grid(len(samples), 4.0, 3.2)
    for axis, (label, values) in zip(axes, samples.items(), strict=True):
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        # Per sample of all n (not density=True, which rescales to the mass inside the
        # grid), so that samples beyond the grid lower the bars as they lower p_G there.
        weights = np.full(values.size, 1.0 / (max(values.size, 1) * (bins[1] - bins[0])))
        axis.hist(values, bins, weights=weights, color=SAMPLE_COLOR, alpha=0.6, label="samples")
        axis.plot(grid, density, color=REFERENCE_COLOR, linewidth=2, label="exact")
        axis.set_title(label, fontsize="medium")
        axis.set_xlabel(name)
        axis.set_ylabel("density")
    axes[0].legend(fontsize="small")
    return save_figure(figure, path)


def plot_energy_scatter_panels(
    path: Path | str, panels: Mapping[str, tuple[np.ndarray, np.ndarray]]
) -> Path:
    """One panel per generator: ``βU_B`` against ``U_G = −log p_G`` of its samples.

    For ``p_G = p_B`` the points lie on ``βU_B = U_G − log Z_B``, a line of slope 1; each
    panel draws that slope through the median offset ("more diagonal is better", thesis
    Fig 12). Axes span the 0.5–99.5 percentiles of the panel's values.

    Arguments:
        path: PNG file to write.
        panels: ``{label: (U_G (n,), βU_B (n,))}``, both dimensionless.
    """
    figure, axes = _panel_grid(len(panels), 4.0, 3.6)
    for axis, (label, (generator_energy, reduced_energy)) in zip(axes, panels.items(), strict=True):
        u_g = np.asarray(generator_energy, dtype=np.float64).reshape(-1)
        u_b = np.asarray(reduced_energy, dtype=np.float64).reshape(-1)
        keep = np.isfinite(u_g) & np.isfinite(u_b)
        u_g, u_b = u_g[keep], u_b[keep]
        axis.scatter(u_g, u_b, s=2, alpha=0.3, color=SAMPLE_COLOR)
        axis.set_title(label, fontsize="medium")
        axis.set_xlabel("U_G = −log p_G")
        axis.set_ylabel("βU_B")
        if not keep.any():
            continue
        x_range = np.percentile(u_g, KEPT_PERCENTILES)
        y_range = np.percentile(u_b, KEPT_PERCENTILES)
        offset = np.median(u_b - u_g)
        axis.plot(x_range, x_range + offset, color="black", linewidth=1, label="slope 1")
        axis.set_xlim(*x_range)
        axis.set_ylim(*y_range)
    axes[0].legend(fontsize="small")
    return save_figure(figure, path)
