"""Histogram normalisation and range, angle wrapping and input checks of the plots."""

from __future__ import annotations

import math
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest

from forcefields.errors import ConfigError
from molgen.estimate.ess import DEFAULT_THRESHOLD
from molgen.plots.densities import plot_marginal_density, plot_ramachandran
from molgen.plots.energies import plot_energy_histogram
from molgen.plots.evaluation import _seam_section
from tests.molgen.test_plots import kept_figures  # noqa: F401  (a fixture)


def _peaks(figure) -> dict[str, float]:
    """The top of each step histogram of the figure's first axes, by legend label."""
    return {patch.get_label(): patch.get_xy()[:, 1].max() for patch in figure.axes[0].patches}


def _left_out(figure) -> int:
    """The count of the figure's "N samples outside this range or non-finite" note."""
    (note,) = (text.get_text() for text in figure.axes[0].texts)
    assert note.endswith("outside this range or non-finite")
    return int(note.split()[0])


def test_energy_histograms_are_densities_over_all_samples(kept_figures):  # noqa: F811
    # Half the samples at 1000 kT, far outside the range shown: the bars of the other
    # half hold half the mass, so they peak at half the reference's N(0, 1) peak (0.40).
    rng = np.random.default_rng(0)
    reference = rng.normal(0.0, 1.0, 100_000)
    samples = np.concatenate([rng.normal(0.0, 1.0, 5_000), np.full(5_000, 1e3)])
    plot_energy_histogram("energy.png", samples, np.zeros(samples.size), reference)
    (figure,) = kept_figures
    peaks = _peaks(figure)
    assert peaks["reference"] == pytest.approx(0.40, abs=0.03)
    assert peaks["samples (unweighted)"] == pytest.approx(0.20, abs=0.03)
    assert peaks["samples (reweighted)"] == pytest.approx(0.20, abs=0.03)
    assert 5_000 <= _left_out(figure) <= 5_005  # the far half, and a few N(0, 1) tails


def test_marginal_range_leaves_a_far_outlier_out_and_counts_it(kept_figures):  # noqa: F811
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0.0, 1.0, 9_999), [1e4]])
    plot_marginal_density("x0.png", values, None, rng.normal(0.0, 1.0, 20_000))
    plot_marginal_density("x0_alone.png", values)
    # the outlier and the tails beyond the reference's widened 0.5-99.5 % range (a few),
    # or beyond the samples' own 0.5-99.5 % (1 %, about 100)
    for figure, (least, most) in zip(kept_figures, ((1, 10), (50, 150)), strict=True):
        low, high = figure.axes[0].get_xlim()
        assert -10.0 < low and high < 10.0  # the bulk's range, not the outlier's
        assert least <= _left_out(figure) <= most
        assert max(_peaks(figure).values()) > 0.3  # N(0, 1) peaks at 0.40


def _surface(figure) -> np.ma.MaskedArray:
    (mesh,) = figure.axes[0].collections
    return np.ma.asarray(mesh.get_array()).reshape(72, 72)


def test_ramachandran_wraps_angles_given_on_0_to_2pi(kept_figures):  # noqa: F811
    rng = np.random.default_rng(0)
    phi, psi = rng.uniform(-math.pi, math.pi, (2, 5_000))
    plot_ramachandran("principal.png", phi, psi)
    plot_ramachandran("shifted.png", np.mod(phi, 2 * math.pi), np.mod(psi, 2 * math.pi))
    # float32 atan2 gives π rounded up, just above 180°: it lands in the -180° bin.
    edge = np.array([np.float32(math.pi)] * 2, dtype=np.float64)
    plot_ramachandran("edge.png", edge, edge)
    principal, shifted, at_edge = (_surface(figure) for figure in kept_figures)
    np.testing.assert_array_equal(np.ma.getmaskarray(shifted), np.ma.getmaskarray(principal))
    np.testing.assert_allclose(shifted.filled(-1.0), principal.filled(-1.0), atol=1e-9)
    assert np.ma.count(at_edge) == 1 and not np.ma.getmaskarray(at_edge)[0, 0]


def test_ramachandran_checks_its_weights_before_making_a_figure(tmp_path):
    before = plt.get_fignums()
    with pytest.raises(ConfigError, match="4 log weights for 5 samples"):
        plot_ramachandran(tmp_path / "r.png", np.zeros(5), np.zeros(5), np.zeros(4))
    with pytest.raises(ValueError):
        plot_ramachandran(
            tmp_path / "r.png",
            np.zeros(5),
            np.zeros(5),
            reference_phi=np.zeros(3),
            reference_psi=np.zeros(4),
        )
    assert plt.get_fignums() == before
    assert list(tmp_path.iterdir()) == []


def test_seam_fraction_wraps_phi_given_on_0_to_2pi():
    # 200° and 300° are φ = -160° and -60° (β/C5 and C7eq), not beyond the +120° seam.
    phi = np.radians([200.0, 130.0, 300.0, -60.0])
    context = SimpleNamespace(
        system=SimpleNamespace(name="dialanine"),
        samples=SimpleNamespace(arrays={"phi": phi}, log_w=None),
    )
    reference = SimpleNamespace(equilibrated_frames={"phi": phi})
    section = _seam_section(context, reference, DEFAULT_THRESHOLD, False)
    assert section["phi_above_120_fraction"] == 0.25
    assert section["reference_phi_above_120_fraction"] == 0.25
