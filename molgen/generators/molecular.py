"""A two-stage Boltzmann generator over all atoms of a molecule (thesis §3.3, §9.2).

``G^C`` (a flow) generates the heavy atoms; a hydrogen stage places the hydrogens:
``deterministic`` (a feed-forward network, density of the heavy atoms only, as in
the thesis) or ``flow`` (a conditional flow, exact density over all atoms).

The generator exposes the interface of :class:`molgen.flows.Flow` on flattened
coordinates ``(B, 3 N)`` in nm, so every loss of :mod:`molgen.losses` applies.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from forcefields.errors import UnknownNameError
from molgen.flows.composite import Composite
from molgen.flows.flow import Flow
from molgen.flows.presets import coupling_stack
from molgen.flows.standardize import Standardize
from molgen.generators.collinear import refuse_collinear
from molgen.generators.hydrogens import DeterministicHydrogens, HydrogenFlow
from molgen.generators.local_frames import frame_atoms, local_frames

__all__ = ["MolecularGenerator", "build_generator", "HYDROGEN_STAGES"]

HYDROGEN_STAGES = ("deterministic", "flow")


class MolecularGenerator(nn.Module):
    """All-atom generator: heavy atoms from ``heavy_flow``, hydrogens from ``hydrogens``.

    Arguments:
        heavy_atoms: ``(N_C,)`` indices. hydrogens: ``(N_H,)`` indices.
        hydrogen_parents: ``(N_H,)`` heavy atom bonded to each hydrogen.
        heavy_flow: a :class:`Flow` of dimension ``3 N_C`` (nm).
        hydrogen_stage: :class:`DeterministicHydrogens` or :class:`HydrogenFlow`.

    ``sample(n) -> (x (n, 3N), log_prob (n,))``, ``log_prob(x)``,
    ``energy_of_generation(x) = -log_prob(x)``; ``to_atoms(x)`` reshapes to ``(n, N, 3)``.
    With deterministic hydrogens ``log_prob`` is the heavy atoms' (thesis §3.3).
    """

    def __init__(
        self,
        heavy_atoms,
        hydrogens,
        hydrogen_parents,
        heavy_flow: Flow,
        hydrogen_stage,
        hydrogen_frames,
    ):
        super().__init__()
        self.register_buffer("heavy_atoms", torch.as_tensor(heavy_atoms, dtype=torch.long))
        self.register_buffer("hydrogens", torch.as_tensor(hydrogens, dtype=torch.long))
        parents = torch.as_tensor(hydrogen_parents, dtype=torch.long)
        position_in_heavy = {int(a): i for i, a in enumerate(heavy_atoms)}
        self.register_buffer(
            "parent_rows",
            torch.tensor([position_in_heavy[int(p)] for p in parents], dtype=torch.long),
        )
        frames = np.asarray(hydrogen_frames, dtype=np.int64).reshape(-1, 2)
        self.register_buffer(
            "first_rows",
            torch.tensor([position_in_heavy[int(a)] for a in frames[:, 0]], dtype=torch.long),
        )
        self.register_buffer(
            "second_rows",
            torch.tensor([position_in_heavy[int(b)] for b in frames[:, 1]], dtype=torch.long),
        )
        self.n_atoms = len(heavy_atoms) + len(hydrogens)
        self.dim = 3 * self.n_atoms
        self.heavy_flow = heavy_flow
        self.hydrogen_stage = hydrogen_stage

    @property
    def exact_density(self) -> bool:
        """Whether ``log_prob`` covers all atoms (a hydrogen flow) or heavy atoms only."""
        return isinstance(self.hydrogen_stage, HydrogenFlow)

    def to_atoms(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3N)`` → ``(B, N, 3)``."""
        return x.reshape(x.shape[0], self.n_atoms, 3)

    def _frames(self, heavy: torch.Tensor) -> torch.Tensor:
        return local_frames(heavy, self.parent_rows, self.first_rows, self.second_rows)

    def assemble(self, x_heavy: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        """All-atom ``(B, 3N)`` from heavy atoms ``(B, 3 N_C)`` and H offsets ``(B, N_H, 3)``.

        Offsets are in each hydrogen's local frame (see :mod:`.local_frames`).
        """
        heavy = x_heavy.unflatten(1, (-1, 3))
        placed = heavy[:, self.parent_rows] + (self._frames(heavy) @ offsets[..., None])[..., 0]
        atoms = heavy.new_empty(heavy.shape[0], self.n_atoms, 3)
        atoms = atoms.index_copy(1, self.heavy_atoms, heavy)
        atoms = atoms.index_copy(1, self.hydrogens, placed)
        return atoms.flatten(1)

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Inverse of :meth:`assemble`: ``(B, 3N)`` → heavy atoms and local H offsets."""
        atoms = self.to_atoms(x)
        heavy = atoms[:, self.heavy_atoms]
        offsets = atoms[:, self.hydrogens] - heavy[:, self.parent_rows]
        local = (self._frames(heavy).mT @ offsets[..., None])[..., 0]
        return heavy.flatten(1), local

    def start_hydrogen_stage(self, data: torch.Tensor) -> None:
        """Start the hydrogen stage on data ``(M, 3N)`` nm: a flow centred and scaled on
        their local offsets, a deterministic stage at their (relabelled) mean offsets."""
        heavy, offsets = self.split(data)
        if self.exact_density:
            self.hydrogen_stage.start_at(offsets, heavy)
        else:
            self.hydrogen_stage.start_at(offsets, heavy, self.parent_rows)

    @property
    def latent_dim(self) -> int:
        """Dimension of the latent ``z``: heavy atoms, plus hydrogens for a hydrogen flow."""
        hydrogens = 3 * len(self.hydrogens) if self.exact_density else 0
        return self.heavy_flow.dim + hydrogens

    def sample(self, n: int, context=None, generator: torch.Generator | None = None):
        """``n`` all-atom samples ``(n, 3N)`` nm and their log densities ``(n,)``."""
        reference = next(self.parameters())
        z = torch.randn(
            n, self.latent_dim, generator=generator, dtype=reference.dtype, device=reference.device
        )
        return self.sample_from_latent(z)

    def sample_from_latent(self, z: torch.Tensor, context=None):
        """All-atom ``x`` ``(B, 3N)`` and ``log p_G(x)`` ``(B,)`` for ``z`` ``(B, latent_dim)``."""
        z_heavy, z_hydrogens = z.split([self.heavy_flow.dim, z.shape[1] - self.heavy_flow.dim], 1)
        x_heavy, log_prob = self.heavy_flow.sample_from_latent(z_heavy)
        if self.exact_density:
            offsets, log_prob_h = self.hydrogen_stage.sample_from_latent(z_hydrogens, x_heavy)
            log_prob = log_prob + log_prob_h
        else:
            offsets = self.hydrogen_stage(x_heavy)
        return self.assemble(x_heavy, offsets), log_prob

    def log_prob(self, x: torch.Tensor, context=None) -> torch.Tensor:
        """``log p_G(x)`` ``(B,)`` for ``x`` ``(B, 3N)`` (heavy atoms only if deterministic)."""
        x_heavy, offsets = self.split(x)
        log_prob = self.heavy_flow.log_prob(x_heavy)
        if self.exact_density:
            log_prob = log_prob + self.hydrogen_stage.log_prob(offsets, x_heavy)
        return log_prob

    def energy_of_generation(self, x: torch.Tensor, context=None) -> torch.Tensor:
        """``U_G = -log p_G`` (thesis eq. 41)."""
        return -self.log_prob(x)


def hydrogen_frames(system) -> np.ndarray:
    """``(N_H, 2)`` frame atoms of ``system``'s hydrogens (see :func:`frame_atoms`)."""
    bonds = [(bond[0].index, bond[1].index) for bond in system.topology.bonds]
    return frame_atoms(system.heavy_atoms, system.hydrogen_parents, bonds)


def molecular_generator(
    system, heavy_flow: Flow, hydrogen_stage: str, hydrogen_width: int, hydrogen_repeats: int
) -> MolecularGenerator:
    """``heavy_flow`` on ``system``'s heavy atoms plus a new hydrogen stage.

    Arguments:
        system: the molecule (heavy atoms, hydrogens, their parents and bonds).
        heavy_flow: a flow of dimension ``3 N_C``.
        hydrogen_stage: ``"deterministic"`` (hidden width ``hydrogen_width``) or
            ``"flow"`` (``hydrogen_repeats`` × 4 coupling blocks of width ``hydrogen_width``).
    """
    if hydrogen_stage not in HYDROGEN_STAGES:
        raise UnknownNameError(
            f"hydrogen_stage {hydrogen_stage!r}: expected one of {HYDROGEN_STAGES}"
        )
    frames = hydrogen_frames(system)
    triples = np.stack([frames[:, 0], np.asarray(system.hydrogen_parents), frames[:, 1]], 1)
    names = [atom.name for atom in system.topology.atoms]
    refuse_collinear(system.positions, triples, names, f"{system.name}: hydrogen frames")
    heavy_dim = heavy_flow.dim
    n_hydrogens = len(system.hydrogens)
    if hydrogen_stage == "flow":
        stage = HydrogenFlow(heavy_dim, n_hydrogens, hydrogen_width, hydrogen_repeats)
    else:
        stage = DeterministicHydrogens(heavy_dim, n_hydrogens, hidden=hydrogen_width)
    return MolecularGenerator(
        system.heavy_atoms,
        system.hydrogens,
        system.hydrogen_parents,
        heavy_flow,
        stage,
        frames,
    )


def build_generator(
    system,
    data: torch.Tensor,
    hydrogen_stage: str = "flow",
    width: int = 256,
    repeats: int = 24,
    hydrogen_width: int = 128,
    hydrogen_repeats: int = 4,
) -> MolecularGenerator:
    """A generator for a molecular :class:`systems.System`, standardised on ``data``.

    Arguments:
        system: the molecule (heavy atoms, hydrogens and their parents).
        data: ``(B, N, 3)`` nm reference configurations: the heavy-atom flow starts
            as the Gaussian with their mean and per-coordinate std, the hydrogen stage
            around their mean local offsets.
        hydrogen_stage: ``"deterministic"`` or ``"flow"``.
        width, repeats: heavy-atom coupling stack (thesis: 256, 24).
        hydrogen_width, hydrogen_repeats: size of the hydrogen stage.
    """
    data = torch.as_tensor(data, dtype=torch.float32)
    heavy = data[:, system.heavy_atoms].reshape(len(data), -1)
    transform = Composite(coupling_stack(heavy.shape[1], repeats, width), Standardize.fit(heavy))
    generator = molecular_generator(
        system, Flow(transform, heavy.shape[1]), hydrogen_stage, hydrogen_width, hydrogen_repeats
    )
    generator.start_hydrogen_stage(data.reshape(len(data), -1))
    return generator
