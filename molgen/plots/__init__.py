"""Evaluation plots (thesis §6): functions that take arrays and a PNG path (Agg backend).

Each writes its file atomically and returns the path.
"""

from molgen.plots.densities import plot_angle_density, plot_marginal_density, plot_ramachandran
from molgen.plots.energies import plot_energy_histogram, plot_energy_scatter, plot_log_weights
from molgen.plots.populations import plot_populations

__all__ = [
    "plot_angle_density",
    "plot_energy_histogram",
    "plot_energy_scatter",
    "plot_log_weights",
    "plot_marginal_density",
    "plot_populations",
    "plot_ramachandran",
]
