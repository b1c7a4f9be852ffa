"""Energy and weight diagnostics: βU_B histograms, log-weight histogram, U_B vs U_G
(thesis §6 items 3 and 5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from molgen.estimate.ess import kish_ess
from molgen.estimate.logspace import as_log_weights, normalized_weights
from molgen.plots.figure import (
    SAMPLE_COLOR,
    new_figure,
    save_figure,
    step_histograms,
)

__all__ = ["plot_energy_histogram", "plot_log_weights", "plot_energy_scatter"]


def _finite(values) -> np.ndarray:
    """The finite entries of ``values`` (any shape) as a float64 ``(k,)``; none for ``None``."""
    if values is None:
        return np.zeros(0)
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    return values[np.isfinite(values)]


def plot_energy_histogram(
    path: Path | str,
    reduced_energy: np.ndarray | None,
    log_w: np.ndarray | None = None,
    reference_energy: np.ndarray | None = None,
) -> Path:
    """Histograms of ``βU_B`` (dimensionless) of samples (plain and reweighted) and reference.

    Arguments:
        path: PNG file to write.
        reduced_energy: ``βU_B`` of the samples ``(n,)``, or ``None`` to plot the reference
            alone.
        log_w: their unnormalised log importance weights ``(n,)``, or ``None`` to draw
            them unweighted only.
        reference_energy: ``βU_B`` of reference frames ``(m,)``, or ``None``.
    """
    energy = None if reduced_energy is None else np.asarray(reduced_energy, np.float64).reshape(-1)
    weights = (
        None
        if energy is None or log_w is None
        else normalized_weights(as_log_weights(log_w, energy.size))
    )
    pooled = np.concatenate([_finite(energy), _finite(reference_energy)])
    low, high = np.percentile(pooled, [0.5, 99.5]) if pooled.size else (0.0, 1.0)
    bins = np.linspace(low, high + 1e-9, 60)
    figure, (axis,) = new_figure()
    reference = None if reference_energy is None else _finite(reference_energy)
    step_histograms(axis, energy, bins, weights, reference)
    axis.set_xlabel("βU_B")
    axis.set_ylabel("density")
    axis.legend(fontsize="small")
    return save_figure(figure, path)


def plot_log_weights(path: Path | str, log_w: np.ndarray) -> Path:
    """Histogram of ``log w − max log w`` ``(n,)`` with the Kish ESS in the title."""
    log_w = as_log_weights(log_w)
    ess = kish_ess(log_w)
    figure, (axis,) = new_figure()
    axis.hist(_finite(log_w - log_w.max()), 60, color=SAMPLE_COLOR)
    axis.set_yscale("log")
    axis.set_xlabel("log w − max log w")
    axis.set_ylabel("samples")
    axis.set_title(f"Kish ESS {ess:.0f} of {log_w.size} ({100 * ess / log_w.size:.1f} %)")
    return save_figure(figure, path)


def plot_energy_scatter(
    path: Path | str, reduced_energy: np.ndarray, generator_energy: np.ndarray
) -> Path:
    """Scatter of ``βU_B`` against ``U_G = −log p_G`` per sample; a diagonal is ideal.

    Arguments:
        path: PNG file to write.
        reduced_energy: ``βU_B`` ``(n,)``.
        generator_energy: ``U_G = −log p_G`` ``(n,)`` (thesis eq 41).
    """
    u_b = np.asarray(reduced_energy, dtype=np.float64).reshape(-1)
    u_g = np.asarray(generator_energy, dtype=np.float64).reshape(-1)
    keep = np.isfinite(u_b) & np.isfinite(u_g)
    figure, (axis,) = new_figure(height=4.0)
    axis.scatter(u_g[keep], u_b[keep], s=3, alpha=0.4, color=SAMPLE_COLOR)
    offset = np.median(u_b[keep] - u_g[keep]) if keep.any() else 0.0
    span = np.array([u_g[keep].min(), u_g[keep].max()]) if keep.any() else np.zeros(2)
    axis.plot(span, span + offset, color="black", linewidth=1, label="slope 1 (median offset)")
    axis.set_xlabel("U_G = −log p_G")
    axis.set_ylabel("βU_B")
    axis.legend(fontsize="small")
    return save_figure(figure, path)
