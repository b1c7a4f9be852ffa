"""Figure creation and atomic PNG saving with the Agg backend; the colours of the plots.

Colours follow the thesis's convention for reference data (orange, thesis §0); samples
of the generator are blue, their unweighted histograms grey.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

from forcefields.atomic_files import atomic_path

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = [
    "KEPT_PERCENTILES",
    "REFERENCE_COLOR",
    "SAMPLE_COLOR",
    "UNWEIGHTED_COLOR",
    "count_outside",
    "finite_values",
    "new_figure",
    "note_outside",
    "percentile_bins",
    "save_figure",
    "step_histograms",
]

REFERENCE_COLOR = "tab:orange"
SAMPLE_COLOR = "tab:blue"
UNWEIGHTED_COLOR = "tab:gray"


def new_figure(n_columns: int = 1, width: float = 4.5, height: float = 3.6, n_rows: int = 1):
    """A figure with ``n_rows`` x ``n_columns`` axes, each ``width`` x ``height`` inches:
    ``(figure, [axes, ...])`` in row-major order."""
    figure, axes = plt.subplots(
        n_rows,
        n_columns,
        figsize=(width * n_columns, height * n_rows),
        squeeze=False,
        layout="constrained",
    )
    return figure, list(axes.reshape(-1))


def step_histograms(axis, values, bins, weights, reference=None) -> None:
    """Density step histograms of samples, unweighted and reweighted, and of a reference.

    Each histogram is normalised by all its samples, not by those inside ``bins`` (as
    ``density=True`` would): samples beyond the range shown, or not finite, lower the bars
    as they lower the density there.

    Arguments:
        axis: the matplotlib axes to draw on.
        values: the samples ``(n,)``, or ``None`` to draw the reference alone.
        bins: equal-width bin edges ``(k + 1,)`` in the unit of ``values``, or a bin count
            (equal bins over the finite values and reference together).
        weights: normalised weights of the samples ``(n,)`` (ignored without samples), or
            ``None`` to draw the samples unweighted only.
        reference: reference values ``(m,)`` in the same unit, or ``None`` to draw none.
    """
    bins = _bin_edges(bins, values, reference)
    if values is not None:
        _sample_histograms(axis, values, bins, weights)
    if reference is not None:
        axis.hist(
            reference,
            bins,
            weights=_per_sample_density(np.size(reference), bins),
            histtype="step",
            color=REFERENCE_COLOR,
            linewidth=2,
            label="reference",
        )


def _bin_edges(bins, values, reference) -> np.ndarray:
    """``bins`` as edges ``(k + 1,)``: given edges as they are; a count ``k`` as equal bins
    over the finite ``values`` ``(n,)`` and ``reference`` ``(m,)`` (either may be ``None``)."""
    if np.ndim(bins):
        return np.asarray(bins, dtype=np.float64)
    pooled = np.concatenate([finite_values(values), finite_values(reference)])
    return np.histogram_bin_edges(pooled, int(bins), (0.0, 1.0) if not pooled.size else None)


def _per_sample_density(count: int, bins) -> np.ndarray:
    """The weight ``1 / (n Δ)`` ``(n,)`` of each of ``count`` samples in a density histogram
    of equal-width ``bins`` ``(k + 1,)`` of width ``Δ``: the bars integrate to the fraction
    of the samples inside the bins."""
    return np.full(count, 1.0 / (max(count, 1) * _bin_width(bins)))


def _bin_width(bins) -> float:
    """The width of equal-width bin edges ``(k + 1,)``."""
    bins = np.asarray(bins, dtype=np.float64)
    return float((bins[-1] - bins[0]) / (bins.size - 1))


def _sample_histograms(axis, values, bins, weights) -> None:
    """Unweighted (grey) and, with normalised ``weights`` ``(n,)``, reweighted (blue) density
    step histograms of ``values`` ``(n,)`` over ``bins``, normalised by all ``n`` samples."""
    axis.hist(
        values,
        bins,
        weights=_per_sample_density(np.size(values), bins),
        histtype="step",
        color=UNWEIGHTED_COLOR,
        label="samples (unweighted)",
    )
    if weights is None:
        return
    axis.hist(
        values,
        bins,
        weights=np.asarray(weights, dtype=np.float64) / _bin_width(bins),
        histtype="step",
        color=SAMPLE_COLOR,
        linewidth=2,
        label="samples (reweighted)",
    )


KEPT_PERCENTILES = (0.5, 99.5)
"""Histograms (of the reference where there is one) and scatter axes span these
percentiles, so that a few samples of absurd value (an overflowed flow sample at 1e4, a
poorly trained flow's tails at βU_B in the hundreds) cannot squeeze the bulk into one bin;
what a histogram leaves out is counted on the figure (:func:`count_outside`)."""
REFERENCE_MARGIN = 0.25
"""A range taken from a reference is widened by this fraction of its span on each side, so
that samples somewhat wider than the reference stay in view."""


def percentile_bins(
    values: np.ndarray | None,
    reference: np.ndarray | None,
    count: int,
    min_span: float = 0.0,
) -> np.ndarray:
    """Equal-width bin edges ``(count + 1,)`` over the range a histogram shows.

    The range is the :data:`KEPT_PERCENTILES` of the finite ``reference`` values, widened
    on each side by :data:`REFERENCE_MARGIN` of their span (at least of ``min_span``);
    without a finite reference value, the percentiles of the finite ``values``; without
    any, ``[0, 1]``. A range of zero width is widened to one unit.

    Arguments:
        values: the samples ``(n,)`` (any unit), or ``None``.
        reference: reference values ``(m,)`` in the same unit, or ``None``.
        count: the number of bins.
        min_span: least span the reference's margin is taken of (in the unit of the values).
    """
    reference = finite_values(reference)
    ranged = reference if reference.size else finite_values(values)
    low, high = np.percentile(ranged, KEPT_PERCENTILES) if ranged.size else (0.0, 1.0)
    if reference.size:
        margin = REFERENCE_MARGIN * max(high - low, min_span)
        low, high = low - margin, high + margin
    if high <= low:
        low, high = low - 0.5, high + 0.5
    # the top edge a hair above the largest value kept, which would otherwise fall outside
    return np.linspace(low, high + 1e-9 * max(1.0, abs(high)), count + 1)


def count_outside(values: np.ndarray | None, bins: np.ndarray) -> int:
    """How many of ``values`` ``(n,)`` lie outside ``bins`` ``(k + 1,)`` or are not finite
    (0 for ``None``)."""
    if values is None:
        return 0
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    finite = values[np.isfinite(values)]
    beyond = int(np.sum((finite < bins[0]) | (finite > bins[-1])))
    return beyond + values.size - finite.size


def finite_values(values: np.ndarray | None) -> np.ndarray:
    """The finite entries of ``values`` (any shape) as a float64 ``(k,)``; none for ``None``."""
    if values is None:
        return np.zeros(0)
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    return values[np.isfinite(values)]


def note_outside(axis, count: int, where: str) -> None:
    """Write "``count`` samples ``where``" in the axes' upper-left corner (nothing for 0), so
    that points left out of the range shown are not silently lost."""
    if count:
        axis.text(
            0.02,
            0.97,
            f"{count} sample{'s' if count != 1 else ''} {where}",
            transform=axis.transAxes,
            fontsize="small",
            va="top",
        )


def save_figure(figure, path: Path | str) -> Path:
    """Write ``figure`` as PNG to ``path`` through a temporary file and a rename; close it."""
    path = Path(path)
    try:
        with atomic_path(path, mode=0o644) as temporary:
            figure.savefig(temporary, format="png", dpi=120)
    finally:
        plt.close(figure)
    return path
