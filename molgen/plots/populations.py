"""Mode populations of the samples with error bars, next to the reference's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from molgen.plots.figure import REFERENCE_COLOR, SAMPLE_COLOR, new_figure, save_figure

__all__ = ["plot_populations"]

Table = Mapping[str, tuple[float, float]]


def plot_populations(
    path: Path | str,
    mode_names: Sequence[str],
    samples: Table,
    reference: Table | None = None,
) -> Path:
    """Bar chart of mode populations with ±2 standard-error bars.

    Arguments:
        path: PNG file to write.
        mode_names: modes in display order.
        samples: ``{mode: (population, stderr)}`` of the (reweighted) samples; ``nan``
            for a withheld estimate (drawn as a missing bar).
        reference: the same for the reference, or ``None``.
    """
    positions = np.arange(len(mode_names))
    series = [("samples (reweighted)", samples, SAMPLE_COLOR)]
    if reference is not None:
        series.append(("reference", reference, REFERENCE_COLOR))
    width = 0.8 / len(series)
    figure, (axis,) = new_figure()
    for index, (label, table, color) in enumerate(series):
        means = np.array([table.get(name, (np.nan, np.nan))[0] for name in mode_names])
        errors = np.array([table.get(name, (np.nan, np.nan))[1] for name in mode_names])
        axis.bar(
            positions + (index - (len(series) - 1) / 2) * width,
            means,
            width,
            yerr=2.0 * errors,
            capsize=4,
            color=color,
            label=label,
        )
    axis.set_xticks(positions, list(mode_names))
    axis.set_ylabel("population (±2 s.e.)")
    axis.legend(fontsize="small")
    return save_figure(figure, path)
