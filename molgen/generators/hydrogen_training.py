"""Training the deterministic hydrogen stage: hydrogens near their energy minimum.

The thesis (§3.3, §5.1) trains ``G^H`` "to minimise the energy of the generated
hydrogen atoms" given heavy atoms; the loss is left open. Here it is the mean
(clipped) energy of the molecules assembled from reference heavy atoms and the
hydrogens ``G^H`` places, minimised with Adam. Heavy atoms enter as constants, so
only the hydrogens' energy terms move the network.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from tqdm.auto import tqdm

from molgen.generators.hydrogens import DeterministicHydrogens
from molgen.generators.molecular import MolecularGenerator

__all__ = ["fit_deterministic_hydrogens"]


def fit_deterministic_hydrogens(
    generator: MolecularGenerator,
    energy: Callable[[torch.Tensor], torch.Tensor],
    data: torch.Tensor,
    steps: int = 500,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
) -> list[float]:
    """Fit ``generator``'s deterministic hydrogen stage on the heavy atoms of ``data``.

    Arguments:
        generator: a generator whose ``hydrogen_stage`` is :class:`DeterministicHydrogens`.
        energy: ``(B, N, 3)`` nm → ``(B,)`` kJ/mol (use the clipped energy).
        data: ``(M, N, 3)`` nm reference configurations (their hydrogens are ignored).
        steps, batch_size, learning_rate, seed: Adam settings and the batch sampler's seed.

    Returns:
        The mean energy (kJ/mol) of each step.
    """
    stage = generator.hydrogen_stage
    if not isinstance(stage, DeterministicHydrogens):
        raise TypeError("fit_deterministic_hydrogens needs a deterministic hydrogen stage")
    reference = next(stage.parameters())
    data = torch.as_tensor(data, dtype=reference.dtype, device=reference.device)
    heavy = data[:, generator.heavy_atoms].reshape(len(data), -1)
    optimiser = torch.optim.Adam(stage.parameters(), lr=learning_rate)
    sampler = torch.Generator(device="cpu").manual_seed(seed)
    history = []
    for _ in tqdm(range(steps), desc="hydrogens", disable=not progress):
        rows = torch.randint(len(heavy), (batch_size,), generator=sampler).to(heavy.device)
        batch = heavy[rows]
        molecules = generator.to_atoms(generator.assemble(batch, stage(batch)))
        loss = energy(molecules).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        history.append(float(loss.detach()))
    return history
