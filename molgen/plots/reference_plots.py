"""Plots of a reference run (``molgen reference --plots``): what its frames look like.

Written next to ``stats.json``: the backbone Ramachandran density (dialanine), the
dihedral histogram (butane, on [0°, 360°) with the mode boundaries), the x₀ marginal (the
double wells), the reduced-energy
histogram, and the running mode populations against the iteration with the run's ±2
standard-error bands. The frames are drawn as the reference (orange, labelled so).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from molgen.estimate.reference import read_reference
from molgen.plots.densities import (
    plot_butane_dihedral,
    plot_marginal_density,
    plot_ramachandran,
)
from molgen.plots.energies import plot_energy_histogram
from molgen.plots.populations import plot_population_traces

__all__ = ["plot_reference"]


def plot_reference(folder: Path | str) -> list[Path]:
    """Write the reference plots of the run in ``folder`` as PNGs; returns their paths.

    Needs the run's ``stats.json`` and ``frames.npz`` (per-frame observables, energies
    and modes, as ``molgen reference`` writes them). Densities use the equilibrated
    frames; the population traces show every recorded frame.
    """
    folder = Path(folder)
    reference = read_reference(folder)
    frames = reference.equilibrated_frames
    written = []
    if "phi" in frames and "psi" in frames:
        written.append(
            plot_ramachandran(
                folder / "ramachandran.png", frames["phi"], frames["psi"], title="reference"
            )
        )
    if "dihedral" in frames:
        written.append(
            plot_butane_dihedral(folder / "dihedral.png", None, reference_angle=frames["dihedral"])
        )
    if "x0" in frames:
        written.append(
            plot_marginal_density(
                folder / "x0.png", None, reference_values=frames["x0"], name="x_0 (reduced units)"
            )
        )
    if "reduced_potential" in frames:
        written.append(
            plot_energy_histogram(
                folder / "energy_histogram.png",
                None,
                reference_energy=frames["reduced_potential"],
            )
        )
    if "mode" in frames and "iteration" in frames:
        names = list(reference.populations)
        written.append(
            plot_population_traces(
                folder / "populations_vs_time.png",
                reference.frames["iteration"],
                np.asarray(reference.frames["mode"]),
                names,
                reference.populations,
            )
        )
    return written
