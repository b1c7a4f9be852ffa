"""Langevin-middle integration and replica swaps sample the right temperatures."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from forcefields.units import BOLTZMANN_KJ_PER_MOL_K
from systems.reference.langevin_integrator import LangevinMiddle
from systems.reference.langevin_tempering import LangevinTempering
from systems.reference.replica_swaps import permute_slots, swap_order

MASSES = np.array([1.008, 12.011, 15.999])
"""A three-atom chain H–C–O (dalton)."""
SPRINGS = ((0, 1, 2.5e5), (1, 2, 1.0e5))
"""``U = Σ ½ k |x_j − x_i|²`` over these ``(i, j, k)`` (k in kJ/mol/nm²). The H–C spring
has ω = sqrt(k/μ) ≈ 520/ps, so ω Δt ≈ 0.5 at 1 fs: a step far from the small-step limit,
where a scheme that is not exact for harmonic forces would be biased by several percent."""


def _springs(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    energy = x.new_zeros(len(x))
    forces = torch.zeros_like(x)
    for i, j, k in SPRINGS:
        bond = x[:, j] - x[:, i]
        energy = energy + 0.5 * k * (bond**2).sum(-1)
        forces[:, i] += k * bond
        forces[:, j] -= k * bond
    return energy, forces


def test_harmonic_chain_has_exact_kinetic_and_configurational_temperature():
    """Langevin-middle samples harmonic forces exactly (any stable step): per ladder and slot,
    ``m ⟨|v|²⟩ / 3 = k_B T`` for every atom (kinetic) and ``k ⟨|r|²⟩ / 3 = k_B T`` for every
    spring (configurational: ``⟨|∇U|²⟩ / ⟨∇²U⟩`` for a harmonic term). Two slots with swaps
    also check that swapped velocities are rescaled to their new temperature, since the
    snapshots are taken right after each swap sweep.

    Error bars: 256 independent ladders, standard error from their spread. With friction
    10/ps a snapshot every 10 fs is roughly independent after two snapshots, so each of the
    12 ratios has a standard error near 0.4 %; 4 standard errors is a false-alarm rate of
    ~1e-4 per ratio, while a 2 % bias would be found.
    """
    temperatures = [300.0, 450.0]
    sampler = LangevinTempering(
        _springs,
        MASSES,
        temperatures,
        np.zeros((3, 3)),  # the springs' minimum: no excess energy to relax
        n_ladders=256,
        steps_per_iteration=10,
        timestep=0.001,
        friction=10.0,
        burn_in_iterations=100,
        dtype=torch.float64,
        seed=1,
    )
    kinetic, configurational = [], []
    masses = torch.as_tensor(MASSES)

    def measure(state: LangevinTempering) -> None:
        if state.n_recorded == 0:
            return
        kinetic.append((masses[:, None] * state.velocities**2).sum(-1) / 3.0)
        configurational.append(
            torch.stack(
                [
                    k * ((state.positions[:, :, j] - state.positions[:, :, i]) ** 2).sum(-1) / 3
                    for i, j, k in SPRINGS
                ],
                dim=-1,
            )
        )

    sampler.run(400, callback=measure)
    kT = BOLTZMANN_KJ_PER_MOL_K * torch.tensor(temperatures, dtype=torch.float64)
    for samples in (kinetic, configurational):
        per_ladder = torch.stack(samples).mean(0) / kT[None, :, None]  # (L, K, terms)
        mean = per_ladder.mean(0)
        sem = per_ladder.std(0) / math.sqrt(per_ladder.shape[0])
        assert bool((sem < 0.01).all()), sem
        assert bool(((mean - 1.0).abs() < 4.0 * sem).all()), (mean, sem)
    assert bool((sampler.swap_acceptance() > 0.05).all())


def test_integrator_step_matches_the_openmm_scheme():
    """One step by hand: kick with the full step, drift half, damp + noise, drift half."""
    integrator = LangevinMiddle(MASSES, [300.0], timestep=0.002, friction=2.0)
    generator = torch.Generator().manual_seed(0)
    x, v, f, noise = (
        torch.randn((1, 1, 3, 3), generator=generator, dtype=torch.float64) for _ in range(4)
    )
    new_x, new_v = integrator.step(x, v, f, noise)
    m = torch.as_tensor(MASSES).reshape(1, 1, 3, 1)
    a = math.exp(-2.0 * 0.002)
    kT = BOLTZMANN_KJ_PER_MOL_K * 300.0
    kicked = v + 0.002 * f / m
    half = x + 0.001 * kicked
    expected_v = a * kicked + torch.sqrt((1 - a * a) * kT / m) * noise
    torch.testing.assert_close(new_v, expected_v)
    torch.testing.assert_close(new_x, half + 0.001 * expected_v)


def test_swap_order_exchanges_favourable_pairs_and_keeps_unfavourable_ones():
    betas = torch.tensor([4.0, 3.0, 2.0, 1.0])
    # Ladder 0: energies decrease with the slot, every pair's log ratio > 0 (always swap);
    # ladder 1: they increase by 1e4, log ratio = -1e4 (never swap).
    energies = torch.tensor([[40.0, 30.0, 20.0, 10.0], [0.0, 1e4, 2e4, 3e4]])
    generator = torch.Generator().manual_seed(0)
    order, accepted = swap_order(energies, betas, 0, generator)
    assert order.tolist() == [[1, 0, 3, 2], [0, 1, 2, 3]]
    assert accepted.tolist() == [[True, False, True], [False, False, False]]
    order, accepted = swap_order(energies, betas, 1, generator)
    assert order.tolist() == [[0, 2, 1, 3], [0, 1, 2, 3]]
    assert accepted.tolist() == [[False, True, False], [False, False, False]]
    single, none = swap_order(torch.zeros(3, 1), torch.ones(1), 1, generator)
    assert single.tolist() == [[0], [0], [0]] and none.shape == (3, 0)
    values = torch.arange(8.0).reshape(2, 4)[..., None].expand(2, 4, 3)
    assert permute_slots(values, order)[0, :, 0].tolist() == [0.0, 2.0, 1.0, 3.0]


def test_swap_acceptance_is_the_metropolis_probability():
    """(β_0 − β_1)(U_0 − U_1) = −1 in every ladder: acceptance e^−1 ≈ 0.368 (binomial error
    over 20,000 ladders 0.0034; 4 errors allowed)."""
    betas = torch.tensor([2.0, 1.0])
    energies = torch.tensor([[0.0, 1.0]]).expand(20000, 2)
    _, accepted = swap_order(energies, betas, 0, torch.Generator().manual_seed(3))
    rate = accepted.double().mean().item()
    assert rate == pytest.approx(math.exp(-1.0), abs=4 * 0.0034)
