"""Figure creation and atomic PNG saving with the Agg backend; the colours of the plots.

Colours follow the thesis's convention for reference data (orange, thesis §0); samples
of the generator are blue, their unweighted histograms grey.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

from forcefields.atomic_files import atomic_path

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = [
    "REFERENCE_COLOR",
    "SAMPLE_COLOR",
    "UNWEIGHTED_COLOR",
    "new_figure",
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

    Arguments:
        axis: the matplotlib axes to draw on.
        values: the samples ``(n,)``, or ``None`` to draw the reference alone.
        bins: bin edges ``(k + 1,)`` in the unit of ``values``, or a bin count.
        weights: normalised weights of the samples ``(n,)`` (ignored without samples), or
            ``None`` to draw the samples unweighted only.
        reference: reference values ``(m,)`` in the same unit, or ``None`` to draw none.
    """
    if values is not None:
        _sample_histograms(axis, values, bins, weights)
    if reference is not None:
        axis.hist(
            reference,
            bins,
            density=True,
            histtype="step",
            color=REFERENCE_COLOR,
            linewidth=2,
            label="reference",
        )


def _sample_histograms(axis, values, bins, weights) -> None:
    """Unweighted (grey) and, with ``weights``, reweighted (blue) density step histograms
    of ``values`` ``(n,)``."""
    axis.hist(
        values,
        bins,
        density=True,
        histtype="step",
        color=UNWEIGHTED_COLOR,
        label="samples (unweighted)",
    )
    if weights is None:
        return
    axis.hist(
        values,
        bins,
        weights=weights,
        density=True,
        histtype="step",
        color=SAMPLE_COLOR,
        linewidth=2,
        label="samples (reweighted)",
    )


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
