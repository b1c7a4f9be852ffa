"""Mode populations of the samples with error bars, next to the reference's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from molgen.plots.figure import REFERENCE_COLOR, SAMPLE_COLOR, new_figure, save_figure

__all__ = ["plot_populations", "plot_population_traces"]

Table = Mapping[str, tuple[float, float]]


def plot_populations(
    path: Path | str,
    mode_names: Sequence[str],
    samples: Table,
    reference: Table | None = None,
    title: str | None = None,
) -> Path:
    """Bar chart of mode populations with ±2 standard-error bars, cut at 0 and 1.

    Arguments:
        path: PNG file to write.
        mode_names: modes in display order.
        samples: ``{mode: (population, stderr)}`` of the (reweighted) samples; ``nan``
            for a withheld estimate (marked "withheld" where its bar would be).
        reference: the same for the reference, or ``None``.
        title: the figure's title, or ``None``.
    """
    positions = np.arange(len(mode_names))
    series = [("samples (reweighted)", samples, SAMPLE_COLOR)]
    if reference is not None:
        series.append(("reference", reference, REFERENCE_COLOR))
    width = 0.8 / len(series)
    figure, (axis,) = new_figure(width=5.5)
    for index, (label, table, color) in enumerate(series):
        means = np.array([table.get(name, (np.nan, np.nan))[0] for name in mode_names])
        errors = np.array([table.get(name, (np.nan, np.nan))[1] for name in mode_names])
        centres = positions + (index - (len(series) - 1) / 2) * width
        # a population lies in [0, 1]: its ±2 s.e. bar is cut there
        below = np.clip(2.0 * errors, 0.0, np.maximum(means, 0.0))
        above = np.clip(2.0 * errors, 0.0, np.maximum(1.0 - means, 0.0))
        axis.bar(centres, means, width, yerr=[below, above], capsize=4, color=color, label=label)
        for centre in centres[np.isnan(means)]:
            axis.text(centre, 0.02, "withheld", rotation=90, ha="center", fontsize="small")
    axis.set_xticks(positions, list(mode_names))
    axis.set_ylabel("population (±2 s.e.)")
    axis.set_ylim(0.0, 1.0)
    if title:
        figure.suptitle(title, fontsize="medium")
    axis.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return save_figure(figure, path)


def plot_population_traces(
    path: Path | str,
    iteration: np.ndarray,
    mode: np.ndarray,
    mode_names: Sequence[str],
    final: Table | None = None,
) -> Path:
    """Running mode populations of a reference run against its iteration.

    Arguments:
        path: PNG file to write.
        iteration: iteration of each recorded frame ``(n,)`` (frames of all chains).
        mode: integer mode label of each frame ``(n,)`` (negative: no mode).
        mode_names: names of labels ``0 .. K-1``.
        final: ``{mode: (population, stderr)}`` of the whole run, drawn as ±2 standard
            error bands, or ``None``.
    """
    iteration = np.asarray(iteration).reshape(-1)
    mode = np.asarray(mode).reshape(-1)
    order = np.argsort(iteration, kind="stable")
    steps, counts = np.unique(iteration[order], return_counts=True)
    ends = np.cumsum(counts)
    figure, (axis,) = new_figure(width=5.5)
    for label, name in enumerate(mode_names):
        running = np.cumsum(mode[order] == label)[ends - 1] / ends
        line = axis.plot(steps, running, label=name)[0]
        if final is not None and name in final:
            mean, sem = final[name]
            axis.axhspan(mean - 2 * sem, mean + 2 * sem, color=line.get_color(), alpha=0.15)
    axis.set_xlabel("iteration")
    axis.set_ylabel("population (running mean over all chains)")
    axis.set_ylim(0.0, 1.0)
    axis.legend(fontsize="small")
    return save_figure(figure, path)
