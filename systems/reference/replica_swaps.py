"""Swaps between neighbouring temperatures of many independent ladders at once.

Ladders are the rows of ``(L, K)`` arrays; temperature slot ``k`` holds the replica
thermostatted at ``T_k``. A sweep proposes to exchange the configurations of slots
``(k, k+1)`` for every ``k ≡ parity (mod 2)`` in every ladder and accepts with the
Metropolis probability ``min(1, exp((β_k − β_{k+1}) (U_k − U_{k+1})))``, each ladder and
pair deciding on its own. The caller moves velocities along with the configurations and
rescales them to the new temperature (``sqrt(T_new / T_old)``, Sugita & Okamoto 1999;
see :meth:`~systems.reference.langevin_integrator.LangevinMiddle.rescale`).
"""

from __future__ import annotations

import torch

__all__ = ["swap_pairs", "swap_order", "permute_slots"]


def swap_pairs(n_slots: int, parity: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Lower slots ``k`` of the pairs ``(k, k+1)`` a sweep of ``parity`` tries, int64 ``(P,)``."""
    return torch.arange(parity, max(n_slots - 1, parity), 2, dtype=torch.int64, device=device)


def swap_order(
    energies: torch.Tensor, betas: torch.Tensor, parity: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Which configuration each slot holds after one sweep of neighbour swaps.

    Arguments:
        energies: ``(L, K)`` potential energies (kJ/mol) of the slots' configurations.
        betas: ``(K,)`` inverse temperatures in mol/kJ.
        parity: ``0`` tries pairs ``(0, 1), (2, 3), …``; ``1`` tries ``(1, 2), (3, 4), …``.
        generator: source of the uniform numbers (``(L, P)`` drawn, ``P`` pairs tried), on
            the device of ``energies``.

    Returns:
        ``order`` ``(L, K)`` int64 (slot ``k`` of ladder ``l`` takes the configuration of
        slot ``order[l, k]``) and ``accepted`` ``(L, K − 1)`` bool (pair ``(k, k+1)``
        exchanged; pairs not tried are ``False``).
    """
    n_ladders, n_slots = energies.shape
    device = energies.device
    order = torch.arange(n_slots, device=device).expand(n_ladders, n_slots).clone()
    accepted = torch.zeros(n_ladders, max(n_slots - 1, 0), dtype=torch.bool, device=device)
    lower = swap_pairs(n_slots, parity, device)
    if len(lower) == 0:
        return order, accepted
    upper = lower + 1
    energies = energies.to(torch.float64)
    betas = betas.to(device, torch.float64)
    log_ratio = (betas[lower] - betas[upper]) * (energies[:, lower] - energies[:, upper])
    uniform = torch.rand(log_ratio.shape, generator=generator, dtype=torch.float64, device=device)
    exchange = torch.log(uniform) < log_ratio
    order[:, lower] = torch.where(exchange, upper, lower)
    order[:, upper] = torch.where(exchange, lower, upper)
    accepted[:, lower] = exchange
    return order, accepted


def permute_slots(values: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """``values[l, order[l, k], ...]`` for ``values`` ``(L, K, ...)`` and ``order`` ``(L, K)``."""
    index = order.reshape(*order.shape, *([1] * (values.dim() - 2))).expand_as(values)
    return torch.gather(values, 1, index)
