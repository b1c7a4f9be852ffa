"""Second-stage hydrogen placement given the heavy atoms (thesis §3.3, §9.2).

Both stages output hydrogen positions as offsets from the heavy atom each hydrogen
is bonded to, ``x_H = x_parent + offset``: for fixed heavy atoms that map has unit
Jacobian, so a density over offsets is a density over hydrogen positions.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from molgen.flows.flow import Flow
from molgen.flows.presets import coupling_stack

__all__ = ["DeterministicHydrogens", "HydrogenFlow", "relabel_equivalent_hydrogens"]


class DeterministicHydrogens(nn.Module):
    """Feed-forward ``G^H``: hydrogen offsets as a function of the heavy atoms.

    References:
        Felardos (2022), thesis §3.3 (3 fully connected layers, CELU, hidden 512).

    Arguments:
        heavy_dim: ``3 N_C`` (flattened heavy-atom coordinates, nm).
        n_hydrogens: ``N_H``.
        hidden: width of the hidden layers.

    ``forward(x_heavy (B, 3 N_C)) -> offsets (B, N_H, 3)`` (nm, in each hydrogen's
    local frame); :meth:`start_at` makes it predict the mean offsets of data and
    standardises its input on the data's heavy atoms (a fixed affine map: raw
    coordinates vary by a few hundredths of a nm between conformations, too little for
    the first layer to tell them apart at its initial scale). It carries no density: a
    generator using it reports the density of the heavy atoms, as the thesis does.
    """

    def __init__(self, heavy_dim: int, n_hydrogens: int, hidden: int = 512):
        super().__init__()
        self.n_hydrogens = n_hydrogens
        self.register_buffer("input_mean", torch.zeros(heavy_dim))
        self.register_buffer("input_scale", torch.ones(heavy_dim))
        self.network = nn.Sequential(
            nn.Linear(heavy_dim, hidden),
            nn.CELU(),
            nn.Linear(hidden, hidden),
            nn.CELU(),
            nn.Linear(hidden, 3 * n_hydrogens),
        )
        nn.init.zeros_(self.network[-1].weight)
        nn.init.zeros_(self.network[-1].bias)

    def forward(self, x_heavy: torch.Tensor) -> torch.Tensor:
        features = (x_heavy - self.input_mean) / self.input_scale
        return self.network(features).reshape(-1, self.n_hydrogens, 3)

    @torch.no_grad()
    def start_at(
        self,
        offsets: torch.Tensor,
        x_heavy: torch.Tensor,
        parent_rows: torch.Tensor | None = None,
    ) -> None:
        """Predict the mean of ``offsets`` ``(M, N_H, 3)`` whatever the heavy atoms, and
        standardise the input per coordinate on ``x_heavy`` ``(M, 3 N_C)`` nm.

        The offsets are first relabelled within each heavy atom's hydrogens
        (``parent_rows`` ``(N_H,)``, see :func:`relabel_equivalent_hydrogens`; ``None``:
        as given), so a methyl whose hydrogens trade places in the data does not start
        collapsed on its axis."""
        nn.init.zeros_(self.network[-1].weight)
        relabelled = (
            offsets if parent_rows is None else relabel_equivalent_hydrogens(offsets, parent_rows)
        )
        self.network[-1].bias.copy_(relabelled.mean(0).reshape(-1))
        self.input_mean.copy_(x_heavy.mean(0))
        self.input_scale.copy_(x_heavy.std(0).clamp_min(1e-3))


class HydrogenFlow(nn.Module):
    """Conditional flow ``G^H(z_H | x_C)`` over hydrogen offsets (thesis §9.2).

    Arguments:
        heavy_dim: ``3 N_C``, the size of the condition.
        n_hydrogens: ``N_H``.
        width, repeats: coupling-stack size (4 coupling blocks per repeat).

    Offsets (nm, in each hydrogen's local frame) are standardised per coordinate by
    a fixed affine map, set from data by :meth:`start_at`.
    ``sample(x_heavy) -> (offsets (B, N_H, 3), log_prob (B,))`` and
    ``log_prob(offsets, x_heavy) -> (B,)``: exact densities of hydrogen positions
    given the heavy atoms, so a generator using it has an exact density over all atoms.
    """

    def __init__(self, heavy_dim: int, n_hydrogens: int, width: int = 128, repeats: int = 4):
        super().__init__()
        self.n_hydrogens = n_hydrogens
        dim = 3 * n_hydrogens
        self.flow = Flow(coupling_stack(dim, repeats, width, context_dim=heavy_dim), dim)
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("scale", torch.ones(dim))

    @torch.no_grad()
    def start_at(self, offsets: torch.Tensor, x_heavy: torch.Tensor) -> None:
        """Centre and scale each offset coordinate on data ``(M, N_H, 3)`` (the condition
        ``x_heavy`` ``(M, 3 N_C)`` enters the coupling conditioners unscaled)."""
        flat = offsets.flatten(1)
        self.mean.copy_(flat.mean(0))
        self.scale.copy_(flat.std(0).clamp_min(1e-3))

    def _log_scale(self) -> torch.Tensor:
        return torch.log(self.scale).sum()

    def sample(self, x_heavy: torch.Tensor, generator: torch.Generator | None = None):
        z = torch.randn(
            x_heavy.shape[0],
            self.flow.dim,
            generator=generator,
            dtype=x_heavy.dtype,
            device=x_heavy.device,
        )
        return self.sample_from_latent(z, x_heavy)

    def sample_from_latent(self, z: torch.Tensor, x_heavy: torch.Tensor):
        """Offsets ``(B, N_H, 3)`` and log density ``(B,)`` for latents ``z`` ``(B, 3 N_H)``."""
        u, log_prob = self.flow.sample_from_latent(z, context=x_heavy)
        offsets = self.mean + self.scale * u
        return offsets.reshape(-1, self.n_hydrogens, 3), log_prob - self._log_scale()

    def log_prob(self, offsets: torch.Tensor, x_heavy: torch.Tensor) -> torch.Tensor:
        u = (offsets.flatten(1) - self.mean) / self.scale
        return self.flow.log_prob(u, context=x_heavy) - self._log_scale()


def relabel_equivalent_hydrogens(offsets: torch.Tensor, parent_rows: torch.Tensor) -> torch.Tensor:
    """``offsets`` ``(M, N_H, 3)`` with the hydrogens of each heavy atom relabelled, frame by
    frame, by the permutation that brings them nearest to the first frame's.

    The hydrogens of one heavy atom (``parent_rows`` ``(N_H,)`` names it) share a local
    frame and are interchangeable: as a methyl rotates in the data, each label visits all
    three positions and the mean offset of every label falls onto the rotation axis.
    Relabelled, each label keeps to one position.
    """
    relabelled = offsets.clone()
    frames = torch.arange(offsets.shape[0], device=offsets.device)[:, None]
    for parent in torch.unique(parent_rows):
        rows = (parent_rows == parent).nonzero().flatten()
        if len(rows) < 2:
            continue
        orders = torch.tensor(list(itertools.permutations(range(len(rows)))), device=offsets.device)
        group = offsets[:, rows]
        distance = (group[:, orders] - group[0]).square().sum(dim=(-1, -2))
        relabelled[:, rows] = group[frames, orders[distance.argmin(dim=1)]]
    return relabelled
