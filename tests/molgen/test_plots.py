"""Evaluation plots: each function writes a PNG that holds a drawn figure, atomically."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from molgen.plots import (
    plot_angle_density,
    plot_energy_histogram,
    plot_energy_scatter,
    plot_log_weights,
    plot_marginal_density,
    plot_populations,
    plot_ramachandran,
)
from molgen.plots.comparison import (
    plot_energy_scatter_panels,
    plot_fraction_traces,
    plot_marginal_panels,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# An empty 4.5 x 3.6 inch axes at 120 dpi compresses to about 5 kB; a drawn histogram or
# scatter adds several kB of lines and text.
MIN_BYTES = 8_000


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    n = 2_000
    return {
        "angle": rng.uniform(-np.pi, np.pi, n),
        "other": rng.normal(0.0, 1.0, n),
        "log_w": rng.normal(0.0, 1.0, n),
        "energy": rng.gamma(5.0, 2.0, n),
    }


def _check_png(path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > MIN_BYTES
    leftovers = [p for p in path.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_every_plot_is_written(arrays, tmp_path):
    a = arrays
    paths = [
        plot_angle_density(tmp_path / "dihedral.png", a["angle"], a["log_w"], a["angle"][::2]),
        plot_marginal_density(tmp_path / "x0.png", a["other"], a["log_w"], a["other"] + 0.1),
        plot_ramachandran(
            tmp_path / "rama.png", a["angle"], a["angle"][::-1], a["log_w"], a["angle"], a["angle"]
        ),
        plot_energy_histogram(tmp_path / "energy.png", a["energy"], a["log_w"], a["energy"] + 1),
        plot_log_weights(tmp_path / "log_w.png", a["log_w"]),
        plot_energy_scatter(tmp_path / "scatter.png", a["energy"], a["energy"] + a["other"]),
        plot_populations(
            tmp_path / "populations.png",
            ["trans", "gauche"],
            {"trans": (0.7, 0.02), "gauche": (0.3, 0.02)},
            {"trans": (0.68, 0.01), "gauche": (0.32, 0.01)},
        ),
    ]
    for path in paths:
        _check_png(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)


def test_withheld_populations_and_no_reference(tmp_path):
    path = plot_populations(
        tmp_path / "populations.png", ["a", "b"], {"a": (np.nan, np.nan), "b": (0.4, 0.1)}
    )
    _check_png(path)
    _check_png(plot_ramachandran(tmp_path / "rama.png", np.zeros(10), np.ones(10)))


def _png_size(path) -> tuple[int, int]:
    """Width and height in pixels from the PNG header (IHDR follows the 8-byte signature)."""
    return struct.unpack(">II", path.read_bytes()[16:24])


def test_comparison_panels_lay_out_one_panel_per_generator(arrays, tmp_path):
    a = arrays
    grid = np.linspace(-3.0, 3.0, 61)
    density = np.exp(-0.5 * grid**2) / np.sqrt(2 * np.pi)
    five = {f"run {i}": a["other"] + i for i in range(5)}
    marginal = plot_marginal_panels(tmp_path / "x0.png", five, grid, density)
    scatter = plot_energy_scatter_panels(
        tmp_path / "scatter.png",
        {"good": (a["energy"], a["energy"] + 3.0), "bad": (a["energy"], a["other"])},
    )
    steps = np.arange(0, 100, 10)
    traces = {name: (steps, np.full(10, 0.2), np.full(10, 0.01)) for name in ("a", "b")}
    fractions = plot_fraction_traces(
        tmp_path / "f.png", traces, 0.22, tolerance=0.02, marks={"end of pre-training": 50}
    )
    for path in (marginal, scatter, fractions):
        _check_png(path)
    # 120 dpi: five marginal panels of 4.0 x 3.2 in wrap into 4 columns x 2 rows, two scatter
    # panels of 4.0 x 3.6 in sit side by side, the trace plot is one 8.0 x 4.5 in axes.
    assert _png_size(marginal) == (4 * 480, 2 * 384)
    assert _png_size(scatter) == (2 * 480, 432)
    assert _png_size(fractions) == (960, 540)


def test_reference_plots_cover_every_observable(tmp_path):
    import json

    from molgen.plots.reference_plots import plot_reference

    rng = np.random.default_rng(0)
    n = 600
    mode = rng.integers(0, 3, n)
    names = ["C7eq", "alphaR", "C7ax"]
    populations = {
        name: {"mean": float(np.mean(mode == i)), "sem": 0.02} for i, name in enumerate(names)
    }
    (tmp_path / "stats.json").write_text(json.dumps({"populations": populations}))
    np.savez(
        tmp_path / "frames.npz",
        iteration=np.repeat(np.arange(n // 3), 3),
        mode=mode,
        phi=rng.uniform(-np.pi, np.pi, n),
        psi=rng.uniform(-np.pi, np.pi, n),
        reduced_potential=rng.normal(20.0, 3.0, n),
        x0=rng.normal(-1.0, 0.5, n),
    )
    written = plot_reference(tmp_path)
    assert sorted(p.name for p in written) == [
        "energy_histogram.png",
        "populations_vs_time.png",
        "ramachandran.png",
        "x0.png",
    ]
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def kept_figures(monkeypatch):
    """Keep the figures the comparison, density and energy plots draw, instead of saving
    and closing them."""
    import matplotlib.pyplot as plt

    from molgen.plots import comparison, densities, energies, populations

    figures = []

    def keep(figure, path):
        figures.append(figure)
        return Path(path)

    for module in (comparison, densities, energies, populations):
        monkeypatch.setattr(module, "save_figure", keep)
    yield figures
    for figure in figures:
        plt.close(figure)


def _legend_labels(figure) -> list[str]:
    return [text.get_text() for text in figure.axes[0].get_legend().get_texts()]


def test_reference_plots_draw_the_frames_as_the_reference(tmp_path, kept_figures):
    import json

    from matplotlib.colors import to_rgba

    from molgen.plots.figure import REFERENCE_COLOR
    from molgen.plots.reference_plots import plot_reference

    rng = np.random.default_rng(1)
    (tmp_path / "stats.json").write_text(json.dumps({"populations": {}}))
    np.savez(
        tmp_path / "frames.npz",
        dihedral=rng.uniform(-np.pi, np.pi, 500),
        reduced_potential=rng.normal(20.0, 3.0, 500),
    )
    plot_reference(tmp_path)
    dihedral, energy = kept_figures
    assert _legend_labels(dihedral) == ["reference", "mode boundary"]
    assert _legend_labels(energy) == ["reference"]
    for figure in (dihedral, energy):
        (histogram,) = figure.axes[0].patches
        assert histogram.get_edgecolor() == to_rgba(REFERENCE_COLOR)


def test_ramachandran_masks_empty_bins_and_marks_clipped_values(kept_figures):
    from molgen.plots.densities import plot_ramachandran

    # Three occupied 5-degree bins; the last sample's weight e^-20 puts its bin at 20 kT,
    # above the 10 kT top of the colour scale.
    phi = np.radians([-62.5, -62.5, 62.5, 152.5])
    psi = np.radians([-42.5, -42.5, 27.5, 152.5])
    log_w = np.array([0.0, 0.0, 0.0, -20.0])
    plot_ramachandran("clipped.png", phi, psi, log_w)
    plot_ramachandran("unclipped.png", phi[:3], psi[:3])
    edges = np.linspace(-180.0, 180.0, 73)
    for figure, n in zip(kept_figures, (4, 3), strict=True):
        counts, _, _ = np.histogram2d(np.degrees(phi[:n]), np.degrees(psi[:n]), [edges, edges])
        (mesh,) = figure.axes[0].collections
        values = mesh.get_array()
        assert np.array_equal(~np.ma.getmaskarray(values).reshape(72, 72), counts.T > 0)
        assert np.isfinite(np.ma.compressed(values)).all()
        assert tuple(mesh.get_cmap().get_bad()) == (1.0, 1.0, 1.0, 1.0)
    clipped, unclipped = kept_figures
    assert clipped.axes[0].collections[0].colorbar.extend == "max"
    assert unclipped.axes[0].collections[0].colorbar.extend == "neither"


def test_butane_dihedral_is_drawn_on_0_to_360_with_the_mode_boundaries(kept_figures, monkeypatch):
    from molgen.plots import densities

    drawn = {}
    draw = densities.step_histograms

    def record(axis, values, bins, weights, reference=None):
        drawn.update(values=values, bins=bins, reference=reference)
        draw(axis, values, bins, weights, reference)

    monkeypatch.setattr(densities, "step_histograms", record)
    # gauche- (-60), gauche+ (60), trans on both sides of the +-180 seam, and -1e-17 rad,
    # which np.mod alone would round up to 360 degrees.
    angle = np.radians([-60.0, 60.0, 180.0, -179.0, 179.0, 0.0])
    angle[-1] = -1e-17
    densities.plot_butane_dihedral("dihedral.png", angle, None, angle[:3])
    np.testing.assert_array_equal(drawn["bins"], np.linspace(0.0, 360.0, 73))
    # Degrees to radians and back round to ~1e-13 degrees.
    expected = [300.0, 60.0, 180.0, 181.0, 179.0, 0.0]
    np.testing.assert_allclose(drawn["values"], expected, atol=1e-9)
    np.testing.assert_allclose(drawn["reference"], expected[:3], atol=1e-9)
    (figure,) = kept_figures
    marks = [line.get_xdata()[0] for line in figure.axes[0].lines]
    assert marks == [120.0, 240.0]
    assert _legend_labels(figure)[-1] == "mode boundary"


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


def _texts(figure) -> list[str]:
    return [text.get_text() for text in figure.axes[0].texts]


def test_samples_of_absurd_energy_do_not_squeeze_the_reference_into_one_bin(kept_figures):
    rng = np.random.default_rng(1)
    reference = rng.normal(25.0, 5.0, 500)
    samples = np.concatenate([rng.uniform(15.0, 35.0, 900), np.full(100, 3000.0), [np.nan]])
    plot_energy_histogram("energy.png", samples, None, reference)
    (figure,) = kept_figures
    low, high = figure.axes[0].get_xlim()
    assert high < 100.0 and low > -20.0  # the reference's range, not the outliers'
    assert _texts(figure) == ["101 samples outside this range or non-finite"]
    assert figure.axes[0].get_xlabel() == "βU_B (kT)"


def test_log_weights_far_below_the_largest_are_counted_not_drawn(kept_figures):
    # -inf: samples outside the canonical labelling or overflowed; they count as below
    log_w = np.concatenate([np.zeros(50), np.full(7, -500.0), np.full(3, -np.inf)])
    plot_log_weights("weights.png", log_w, pareto_k=0.5)
    (figure,) = kept_figures
    assert figure.axes[0].get_xlim()[0] > -40.0
    assert _texts(figure) == ["10 samples below −30 (not drawn)"]
    assert figure.axes[0].get_title().endswith("Pareto k̂ 0.50")


def test_energy_scatter_counts_the_points_beyond_its_axes(kept_figures):
    rng = np.random.default_rng(2)
    u_g = rng.normal(0.0, 1.0, 2000)
    u_b = u_g + rng.normal(0.0, 0.1, 2000)
    u_b[:3] = 1e6
    plot_energy_scatter("scatter.png", u_b, u_g)
    (figure,) = kept_figures
    assert figure.axes[0].get_ylim()[1] < 100.0
    (note,) = _texts(figure)
    assert note.endswith("samples outside this range or non-finite")
    assert int(note.split()[0]) >= 3


def test_population_error_bars_stay_in_0_1_and_withheld_bars_are_marked(kept_figures):
    plot_populations(
        "populations.png",
        ["a", "b"],
        {"a": (float("nan"), float("nan")), "b": (0.99, 0.05)},
        {"a": (0.0, 0.06), "b": (1.0, 0.06)},
    )
    (figure,) = kept_figures
    axis = figure.axes[0]
    assert _texts(figure) == ["withheld"]
    segments = [np.asarray(segment) for bars in axis.collections for segment in bars.get_segments()]
    ends = np.concatenate([segment.reshape(-1, 2)[:, 1] for segment in segments])
    assert np.isfinite(ends).any()
    assert ends.min() >= 0.0 and ends.max() <= 1.0


def test_a_density_drawn_unweighted_says_why_in_its_title(kept_figures):
    from molgen.plots.densities import plot_butane_dihedral

    title = "reweighting withheld: ESS 1.6 < 50.0"
    plot_butane_dihedral("d.png", np.radians([60.0, 180.0]), None, None, title)
    (figure,) = kept_figures
    assert figure.get_suptitle() == title
