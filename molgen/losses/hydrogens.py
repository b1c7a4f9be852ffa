"""Training the hydrogen stage of a molecular generator (thesis §3.3, §9.2)."""

from __future__ import annotations

import torch

from molgen.losses.batch import Energy, require_sample_count

__all__ = ["hydrogen_kl"]


def hydrogen_kl(flow, beta_u_b: Energy, batch: int) -> torch.Tensor:
    r"""Reverse KL of the hydrogen stage given generated heavy atoms.

    Heavy atoms are drawn from the heavy-atom flow and detached; the loss is the mean
    of :math:`\beta U_B(x_C, x_H) + \log p_H(x_H \mid x_C)`, so only the hydrogen stage
    moves. For a deterministic stage (no density) it is the mean reduced energy of the
    hydrogens placed, the objective of thesis §3.3; for a conditional hydrogen flow it
    is the KL the thesis proposes for it (§9.2), whose mode-seeking settles on one of
    the symmetric hydrogen permutations.

    ``flow`` must be a :class:`molgen.generators.MolecularGenerator`.
    """
    n = require_sample_count(batch, "hydrogen_kl")
    with torch.no_grad():
        x_heavy, _ = flow.heavy_flow.sample(n)
    if flow.exact_density:
        offsets, log_prob = flow.hydrogen_stage.sample(x_heavy)
    else:
        offsets, log_prob = flow.hydrogen_stage(x_heavy), 0.0
    return (beta_u_b(flow.assemble(x_heavy, offsets)) + log_prob).mean()
