"""Plots given non-finite values or samples outside the plotted range."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture
def kept_figures(monkeypatch):
    """Keep the figures the plots draw, instead of saving and closing them."""
    import matplotlib.pyplot as plt

    from molgen.plots import comparison, densities, energies

    figures = []

    def keep(figure, path):
        figures.append(figure)
        return Path(path)

    for module in (comparison, densities, energies):
        monkeypatch.setattr(module, "save_figure", keep)
    yield figures
    for figure in figures:
        plt.close(figure)


def _heights(patch) -> np.ndarray:
    return patch.get_xy()[:, 1]


def test_marginal_density_ignores_non_finite_values_for_its_bins(kept_figures):
    from molgen.plots.densities import plot_marginal_density

    rng = np.random.default_rng(0)
    values = rng.normal(size=1_000)
    broken = values.copy()
    broken[:2] = [np.nan, np.inf]
    plot_marginal_density("x0.png", broken, None, values)
    (figure,) = kept_figures
    for patch in figure.axes[0].patches:
        heights = _heights(patch)
        assert np.isfinite(heights).all() and heights.max() > 0.2
    assert np.isfinite(figure.axes[0].get_xlim()).all()


def test_plots_without_any_finite_value_do_not_crash(kept_figures):
    from molgen.plots.comparison import plot_energy_scatter_panels
    from molgen.plots.densities import plot_marginal_density
    from molgen.plots.energies import plot_energy_histogram

    plot_energy_histogram("energy.png", np.full(10, np.inf))
    plot_marginal_density("x0.png", np.full(10, np.nan))
    plot_energy_scatter_panels(
        "scatter.png", {"a": (np.full(10, np.nan), np.ones(10)), "b": (np.ones(10), np.ones(10))}
    )
    assert len(kept_figures) == 3


def test_marginal_panels_count_samples_beyond_the_grid(kept_figures):
    from molgen.plots.comparison import plot_marginal_panels

    grid = np.linspace(-1.0, 1.0, 201)
    density = np.full(grid.size, 0.25)  # uniform on [-2, 2], half of it on the grid
    values = np.linspace(-2.0, 2.0, 40_001)
    plot_marginal_panels("panels.png", {"uniform": values}, grid, density)
    (figure,) = kept_figures
    bars = figure.axes[0].patches
    heights = np.array([bar.get_height() for bar in bars])
    widths = np.array([bar.get_width() for bar in bars])
    # The bars hold the samples' mass on the grid (0.5), as the exact density does.
    np.testing.assert_allclose((heights * widths).sum(), 0.5, rtol=1e-3)
    np.testing.assert_allclose(heights, 0.25, rtol=0.02)
