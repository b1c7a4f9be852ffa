"""Training the hydrogen stage of a molecular generator (thesis §3.3, §9.2)."""

from __future__ import annotations

import torch

from forcefields.errors import ConfigError
from molgen.losses.batch import Energy, require_sample_count

__all__ = ["hydrogen_energy", "hydrogen_kl"]


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
    if not hasattr(flow, "hydrogen_stage"):
        raise ConfigError("hydrogen_kl: needs a generator with a hydrogen stage")
    n = require_sample_count(batch, "hydrogen_kl")
    with torch.no_grad():
        x_heavy, _ = flow.heavy_flow.sample(n)
    if flow.exact_density:
        offsets, log_prob = flow.hydrogen_stage.sample(x_heavy)
    else:
        offsets, log_prob = flow.hydrogen_stage(x_heavy), 0.0
    return (beta_u_b(flow.assemble(x_heavy, offsets)) + log_prob).mean()


def hydrogen_energy(flow, beta_u_b: Energy, batch: torch.Tensor) -> torch.Tensor:
    r"""Mean reduced energy of data heavy atoms with the hydrogens ``G^H`` places (thesis §3.3).

    The thesis trains the deterministic stage "to minimise the energy of the generated
    hydrogen atoms"; here on the heavy atoms of data ``batch`` ``(n, D)`` (nm, their
    hydrogens ignored): the mean of :math:`\beta U_B(x_C, G^H(x_C))`. The heavy atoms
    are constants, so only the hydrogen stage moves and only the energy terms that
    involve hydrogens drive it. :func:`hydrogen_kl` is the same objective on generated
    heavy atoms. A hydrogen stage at the minimum makes the generator target
    :math:`\bar p(x_C) \propto \exp(-\beta U_B(x_C, x_H^*(x_C)))` (App. A.2, eq 84).

    ``flow`` must be a :class:`molgen.generators.MolecularGenerator` with deterministic
    hydrogens; ``beta_u_b`` maps ``(n, D)`` to ``(n,)``.
    """
    if getattr(flow, "exact_density", True) or not hasattr(flow, "hydrogen_stage"):
        raise ConfigError("hydrogen_energy: needs a generator with deterministic hydrogens")
    x_heavy = flow.split(batch)[0].detach()
    return beta_u_b(flow.assemble(x_heavy, flow.hydrogen_stage(x_heavy))).mean()
