"""Hydrogen-minimised references (thesis §3.3, ``x_B^MinH``).

Each frame keeps its heavy atoms and has its hydrogens moved to the nearest
minimum of the energy with the heavy atoms fixed. Frames are independent, so the
batch is minimised jointly: the sum of their energies is separable and its minimum
is every frame's minimum. This is the reference a deterministic hydrogen stage is
compared with (its ``U_B`` sits slightly above it, thesis fn. 43).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["minimise_hydrogens"]


def minimise_hydrogens(
    energy: Callable[[torch.Tensor], torch.Tensor],
    frames: torch.Tensor,
    hydrogens,
    max_iterations: int = 200,
    batch_size: int = 1024,
    tolerance: float = 1e-2,
) -> torch.Tensor:
    """Frames ``(B, N, 3)`` nm with hydrogens at a local energy minimum, heavy atoms unchanged.

    Arguments:
        energy: ``(B, N, 3)`` nm → ``(B,)`` kJ/mol, differentiable once.
        frames: ``(B, N, 3)`` nm.
        hydrogens: indices of the atoms to move.
        max_iterations: L-BFGS iterations per batch.
        batch_size: frames minimised together.
        tolerance: stop when every hydrogen force component is below it (kJ/mol/nm).
    """
    hydrogens = torch.as_tensor(hydrogens, dtype=torch.long, device=frames.device)
    chunks = frames.detach().split(batch_size)
    return torch.cat(
        [_minimise_chunk(energy, chunk, hydrogens, max_iterations, tolerance) for chunk in chunks]
    )


def _minimise_chunk(energy, fixed, hydrogens, max_iterations: int, tolerance: float):
    moving = fixed[:, hydrogens].clone().requires_grad_(True)
    optimiser = torch.optim.LBFGS(
        [moving],
        max_iter=max_iterations,
        tolerance_grad=tolerance,
        tolerance_change=0.0,
        history_size=20,
        line_search_fn="strong_wolfe",
    )

    def total_energy() -> torch.Tensor:
        optimiser.zero_grad()
        value = energy(fixed.index_copy(1, hydrogens, moving)).sum()
        value.backward()
        return value

    optimiser.step(total_energy)
    return fixed.index_copy(1, hydrogens, moving.detach())
