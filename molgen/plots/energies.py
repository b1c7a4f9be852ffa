"""Energy and weight diagnostics: βU_B histograms, log-weight histogram, U_B vs U_G
(thesis §6 items 3 and 5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from molgen.estimate.ess import kish_ess
from molgen.estimate.logspace import as_log_weights, normalized_weights
from molgen.plots.figure import (
    SAMPLE_COLOR,
    count_outside,
    finite_values,
    new_figure,
    note_outside,
    percentile_bins,
    save_figure,
    step_histograms,
)

__all__ = ["plot_energy_histogram", "plot_log_weights", "plot_energy_scatter"]

_N_ENERGY_BINS = 60


def plot_energy_histogram(
    path: Path | str,
    reduced_energy: np.ndarray | None,
    log_w: np.ndarray | None = None,
    reference_energy: np.ndarray | None = None,
    title: str | None = None,
) -> Path:
    """Histograms of ``βU_B`` (kT) of samples (plain and reweighted) and reference.

    The range shown is the reference's 0.5–99.5 % percentiles widened by a quarter of
    their span (at least 1 kT) on each side (without a reference: the samples'
    percentiles; :func:`~molgen.plots.figure.percentile_bins`), so that samples of absurd
    energy cannot squeeze the reference into one bin; how many samples lie outside it is
    written on the figure. Each histogram is a density over all its samples, so samples
    outside the range lower the bars (:func:`~molgen.plots.figure.step_histograms`).

    Arguments:
        path: PNG file to write.
        reduced_energy: ``βU_B`` of the samples ``(n,)``, or ``None`` to plot the reference
            alone.
        log_w: their unnormalised log importance weights ``(n,)``, or ``None`` to draw
            them unweighted only.
        reference_energy: ``βU_B`` of reference frames ``(m,)``, or ``None``.
        title: the figure's title, or ``None``.
    """
    energy = None if reduced_energy is None else np.asarray(reduced_energy, np.float64).reshape(-1)
    weights = (
        None
        if energy is None or log_w is None
        else normalized_weights(as_log_weights(log_w, energy.size))
    )
    reference = None if reference_energy is None else finite_values(reference_energy)
    bins = percentile_bins(energy, reference, _N_ENERGY_BINS, min_span=1.0)
    figure, (axis,) = new_figure(width=6.0)  # room for the legend beside the axes
    step_histograms(axis, energy, bins, weights, reference)
    note_outside(axis, count_outside(energy, bins), "outside this range or non-finite")
    axis.set_xlabel("βU_B (kT)")
    axis.set_ylabel("density (1/kT)")
    if title:
        figure.suptitle(title, fontsize="medium")
    axis.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return save_figure(figure, path)


LOG_WEIGHT_RANGE = 30.0
"""Log-weights more than this below the largest (a relative weight under 1e-13) are
counted on the figure instead of drawn."""


def plot_log_weights(path: Path | str, log_w: np.ndarray, pareto_k: float | None = None) -> Path:
    """Histogram of ``log w − max log w`` ``(n,)`` over the top :data:`LOG_WEIGHT_RANGE`
    nats (samples below are counted on the figure), with the Kish ESS and the Pareto
    tail index ``pareto_k`` (if given) in the title."""
    log_w = as_log_weights(log_w)
    ess = kish_ess(log_w)
    relative = finite_values(log_w - log_w.max())
    figure, (axis,) = new_figure()
    axis.hist(relative, np.linspace(-LOG_WEIGHT_RANGE, 0.0, 61), color=SAMPLE_COLOR)
    # weights of -inf (samples outside the canonical labelling, overflowed samples) count too
    below = int(np.sum(relative < -LOG_WEIGHT_RANGE)) + log_w.size - relative.size
    note_outside(axis, below, f"below −{LOG_WEIGHT_RANGE:g} (not drawn)")
    axis.set_yscale("log")
    axis.set_xlabel("log w − max log w (nats)")
    axis.set_ylabel("samples")
    title = f"Kish ESS {ess:.0f} of {log_w.size} ({100 * ess / log_w.size:.1f} %)"
    if pareto_k is not None and np.isfinite(pareto_k):
        title += f", Pareto k̂ {pareto_k:.2f}"
    axis.set_title(title, fontsize="medium")
    return save_figure(figure, path)


def plot_energy_scatter(
    path: Path | str, reduced_energy: np.ndarray, generator_energy: np.ndarray
) -> Path:
    """Scatter of ``βU_B`` against ``U_G = −log p_G`` per sample; a diagonal is ideal.

    Both axes span the 0.5–99.5 % percentiles of their values widened by a tenth of the
    span; how many samples lie outside is written on the figure.

    Arguments:
        path: PNG file to write.
        reduced_energy: ``βU_B`` ``(n,)`` (kT).
        generator_energy: ``U_G = −log p_G`` ``(n,)`` (nats; thesis eq 41).
    """
    u_b = np.asarray(reduced_energy, dtype=np.float64).reshape(-1)
    u_g = np.asarray(generator_energy, dtype=np.float64).reshape(-1)
    keep = np.isfinite(u_b) & np.isfinite(u_g)
    figure, (axis,) = new_figure(height=4.0)
    axis.scatter(u_g[keep], u_b[keep], s=3, alpha=0.4, color=SAMPLE_COLOR)
    offset = np.median(u_b[keep] - u_g[keep]) if keep.any() else 0.0
    span = np.array([u_g[keep].min(), u_g[keep].max()]) if keep.any() else np.zeros(2)
    axis.plot(span, span + offset, color="black", linewidth=1, label="slope 1 (median offset)")
    if keep.any():
        (x_low, x_high), (y_low, y_high) = (_padded_range(u_g[keep]), _padded_range(u_b[keep]))
        axis.set_xlim(x_low, x_high)
        axis.set_ylim(y_low, y_high)
        outside = (u_g[keep] < x_low) | (u_g[keep] > x_high)
        outside |= (u_b[keep] < y_low) | (u_b[keep] > y_high)
        left_out = int(outside.sum()) + int((~keep).sum())
        note_outside(axis, left_out, "outside this range or non-finite")
    axis.set_xlabel("U_G = −log p_G (nats)")
    axis.set_ylabel("βU_B (kT)")
    axis.legend(fontsize="small", loc="lower right")
    return save_figure(figure, path)


def _padded_range(values: np.ndarray) -> tuple[float, float]:
    """The 0.5–99.5 % percentiles of ``values`` ``(k,)`` widened by a tenth of their span."""
    low, high = np.percentile(values, [0.5, 99.5])
    margin = 0.1 * max(high - low, 1e-6)
    return float(low - margin), float(high + margin)
