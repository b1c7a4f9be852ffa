"""``stats.json``: decorrelated statistics of a tempering run at its target temperature.

Recipe:

1. Equilibration: the criterion of ``pymbar.timeseries.detect_equilibration`` on the
   target-temperature energy of all chains pooled
   (:func:`systems.reference.timeseries.equilibration_start`); all chains (and all
   temperatures) drop the frames before that one start.
2. Statistical inefficiency ``g``: the largest of those of the target energy and of each
   mode's indicator (chains pooled), so the error bars hold for the slowest of them.
3. Populations: fraction of equilibrated target frames per mode; standard error from the
   effective count ``n_eff = n / g`` (see :mod:`systems.reference.populations`).
4. Free-energy differences ``ΔF_{a→b} = −kT ln(p_b / p_a)`` with the propagated error.
5. MBAR over the ladder (when it has more than one temperature): the same quantities
   from all replicas' samples (see :mod:`systems.reference.ladder_mbar`); when MBAR
   does not converge (too few samples) ``mbar`` holds ``{"error": message}`` instead.
"""

from __future__ import annotations

import numpy as np
from pymbar.utils import ParameterError

from systems.reference.ladder_mbar import ladder_mbar, state_inefficiency
from systems.reference.populations import (
    LIMITS_NOTE,
    free_energy_differences,
    mode_fractions,
    population_sems,
    population_table,
    withheld_below_min_frames,
)
from systems.reference.record import TemperingRecord
from systems.reference.timeseries import equilibration_start

__all__ = ["ERROR_METHOD", "reference_stats"]

ERROR_METHOD = (
    "standard errors from the effective sample count n_eff = n/g, g the largest statistical "
    "inefficiency (pymbar.timeseries) of the target energy and the mode indicators; "
    "populations: sqrt(p(1-p)/n_eff); free-energy differences: kT sqrt((1/p_a + 1/p_b)/n_eff)"
    "; " + LIMITS_NOTE
)


def stats_units(energy_unit: str, mbar: bool = True) -> dict[str, str]:
    """The ``units`` entry of a ``stats.json``: the unit of each energy-valued key.

    Free-energy differences are in ``energy_unit`` (kJ/mol for molecules, ``reduced`` for
    the double wells), like ``energy``; with ``mbar``, MBAR's ``free_energies`` over the
    ladder are reduced (``f_k − f_0``, dimensionless); populations are fractions.
    """
    units = {
        "energy": energy_unit,
        "free_energy_differences": energy_unit,
        "populations": "fraction",
    }
    if mbar:
        units["mbar.free_energies"] = "reduced (f_k - f_0, dimensionless)"
        units["mbar.free_energy_differences"] = energy_unit
    return units


def reference_stats(record: TemperingRecord, system: str) -> dict:
    """The statistics of ``record`` as a JSON-ready dict.

    Keys: ``system, temperature, energy_unit, units`` (:func:`stats_units`), ``n_frames,
    n_chains, equilibration_frames,
    statistical_inefficiency, n_effective, error_method, energy {mean, sem},
    populations {mode: {mean, sem}}, free_energy_differences {"a->b": {mean, sem}},
    temperatures, swap_acceptance, mbar`` (``None`` with a single temperature, see above).
    """
    target_energies = record.energies[:, 0, :].T
    start = equilibration_start(target_energies)
    energies = record.energies[start:]
    labels = record.labels[start:]
    n_modes = len(record.mode_names)

    chains_energy, chains_labels = energies[:, 0, :].T, labels[:, 0, :].T
    g = state_inefficiency(chains_energy, chains_labels, n_modes)
    n_used = chains_energy.size
    n_effective = n_used / g
    fractions = mode_fractions(chains_labels, n_modes)
    kT = 1.0 / float(record.betas[0])

    stats = {
        "system": system,
        "temperature": float(record.temperatures[0]),
        "energy_unit": record.energy_unit,
        "units": stats_units(record.energy_unit),
        "n_frames": record.n_frames * record.n_chains,
        "n_chains": record.n_chains,
        "equilibration_frames": int(start),
        "statistical_inefficiency": float(g),
        "n_effective": float(n_effective),
        "error_method": ERROR_METHOD,
        "energy": {
            "mean": float(chains_energy.mean()),
            "sem": float(chains_energy.std() / np.sqrt(n_effective)),
        },
        "populations": population_table(
            fractions, population_sems(fractions, n_effective), record.mode_names
        ),
        "free_energy_differences": withheld_below_min_frames(
            free_energy_differences(fractions, n_effective, kT, record.mode_names),
            n_effective,
            n_used,
        ),
        "temperatures": [float(t) for t in record.temperatures],
        "swap_acceptance": [float(a) for a in record.swap_acceptance],
        "mbar": None,
    }
    if len(record.temperatures) > 1 and n_used > 0:
        try:
            stats["mbar"] = ladder_mbar(
                energies, labels, record.betas, record.temperatures, record.mode_names
            )
        except (ParameterError, np.linalg.LinAlgError) as error:
            stats["mbar"] = {"error": " ".join(str(error).split())}
    return stats
