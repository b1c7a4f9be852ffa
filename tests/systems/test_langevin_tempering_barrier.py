"""Langevin replica exchange over a barrier: the exact population, reached from both sides.

Two atoms (2 Da each) whose separation ``d`` feels a tilted double well along x,
``U = H (d_x² − 1)² + C d_x + K (d_y² + d_z²) / 2``, with ``H = 30`` kJ/mol (12 kT at 300 K:
a plain 300 K trajectory would not cross in this test's time). The energy depends only on
``d``, so the sampler's centre-of-mass recentring leaves it alone and the equilibrium
fraction with ``d_x > 0`` is a one-dimensional quadrature. Half the ladders start in each
well; both halves must land on the quadrature value.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import integrate

from forcefields.units import beta_from_temperature
from systems.reference.ladder_statistics import ladder_populations
from systems.reference.langevin_tempering import LangevinTempering

BARRIER, TILT, SPRING = 30.0, 4.0, 200.0


def _energy_and_forces(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    d = x[:, 0] - x[:, 1]
    along, across = d[:, 0], d[:, 1:]
    energy = BARRIER * (along**2 - 1) ** 2 + TILT * along + 0.5 * SPRING * (across**2).sum(-1)
    gradient = torch.cat(
        [(4 * BARRIER * along * (along**2 - 1) + TILT)[:, None], SPRING * across], dim=-1
    )
    return energy, torch.stack([-gradient, gradient], dim=1)


def _positive_side(x: torch.Tensor) -> torch.Tensor:
    return (x[:, 0, 0] - x[:, 1, 0] > 0).to(torch.int64)


def _exact_positive_fraction(temperature: float) -> float:
    beta = beta_from_temperature(temperature)

    def weight(s: float) -> float:
        return np.exp(-beta * (BARRIER * (s * s - 1) ** 2 + TILT * s))

    return integrate.quad(weight, 0, 3)[0] / integrate.quad(weight, -3, 3)[0]


def test_both_starting_wells_reach_the_quadrature_population():
    starts = np.array([[[-1.0, 0, 0], [0, 0, 0]], [[1.0, 0, 0], [0, 0, 0]]])
    sampler = LangevinTempering(
        _energy_and_forces,
        np.array([2.0, 2.0]),
        np.geomspace(300.0, 2400.0, 6),
        starts,
        256,
        labels=_positive_side,
        steps_per_iteration=20,
        timestep=0.005,
        burn_in_iterations=400,
        save_every=100,
        dtype=torch.float64,
        seed=1,
    )
    sampler.run(1200)
    exact = _exact_positive_fraction(300.0)
    labels = sampler.recorded_labels().numpy()
    groups = sampler.start_of_ladder()
    # 4 standard errors: a false alarm has probability ~6e-5 per check, while an
    # unrelaxed half (the minority well's start gives 2x the exact value after 50 ps of
    # burn-in in a shorter run) or a biased swap lies many standard errors away.
    for selection in (groups == 0, groups == 1, np.ones_like(groups, dtype=bool)):
        populations, covariance = ladder_populations(labels[:, selection], 2)
        assert abs(populations[1] - exact) < 4 * np.sqrt(covariance[1, 1])
    assert 0.03 < exact < 0.06  # the case is a real minority well, not a coin toss
