"""Evaluation plots: each function writes a PNG that holds a drawn figure, atomically."""

from __future__ import annotations

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
