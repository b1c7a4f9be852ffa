"""A two-stage Boltzmann generator in internal coordinates, with an exactly sampled pose.

Stage one, a flow ``G^C``, generates the heavy atoms' internal coordinates (bonds,
angles, torsions of :mod:`~molgen.generators.zmatrix`); stage two, a flow
``G^H(· | heavy)`` conditioned on them, the hydrogens' (thesis §3.3, §9.2). Both work on
the unbounded features of :mod:`~molgen.generators.internal_features`. The shape is
then aligned to the reference frame and given a pose drawn exactly from the
distribution of the ``rigid`` alignment penalty (:class:`forcefields.rigid_pose.RigidPose`).
The density over all ``3N`` Cartesian coordinates is exact:

    log p(x) = log p_C(u_C) + log p_H(u_H | u_C) - log|d internal/d u|
               - log volume(internal) + log p_pose(R, t),

with the volume element of :mod:`~molgen.generators.internal_coordinates`. Against
the target ``exp(-β(U + U_align))`` the pose terms cancel, so importance weights depend
on the shape alone.

Hydrogens of a methyl group are exchangeable: cycling their labels turns the first
hydrogen's torsion by about 120°. Data are relabelled so that each rotor's first
hydrogen is the one nearest its reference torsion (``canonical``); these labellings form
a fundamental domain (every configuration once). The generator keeps the first
hydrogen's torsion within ±90° of its reference value, which holds that domain, and
importance weights are restricted to it (``is_canonical``: other samples get weight
zero). Self-normalised averages of observables invariant under the label exchanges
(dihedrals of heavy atoms, energies, φ/ψ, mode populations) are then exactly those of
the Boltzmann distribution. Weights over a domain holding several labellings would not
be: a flow spreads into the neighbouring sectors by different amounts in different
conformations, and each conformation's weight would scale with the number of
labellings it covers.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from nflows.transforms.permutations import RandomPermutation
from torch import Tensor, nn

from forcefields.errors import TooFewSamplesError
from forcefields.rigid_pose import POSE_LATENT_DIM, RigidPose
from molgen.finite_rows import on_finite_rows
from molgen.flows.composite import Composite
from molgen.flows.flow import Flow
from molgen.flows.spline import SplineCoupling
from molgen.flows.standardize import Standardize
from molgen.generators.collinear import refuse_collinear
from molgen.generators.internal_coordinates import dihedral, log_volume, to_cartesian, to_internal
from molgen.generators.internal_features import FeatureMap
from molgen.generators.zmatrix import ZMatrix, build_zmatrix

__all__ = ["InternalCoordinateGenerator", "internal_generator", "spline_stack"]


def spline_stack(dim: int, repeats: int, width: int, context_dim: int = 0) -> Composite:
    """``repeats`` × [spline coupling on each half, random permutation], then standardisation.

    The final :class:`Standardize` layer holds the identity until fitted on data.
    """
    blocks = []
    for _ in range(repeats):
        blocks.append(SplineCoupling(dim, "first", width, context_dim))
        blocks.append(SplineCoupling(dim, "second", width, context_dim))
        blocks.append(RandomPermutation(dim))
    blocks.append(Standardize(torch.zeros(dim), torch.ones(dim)))
    return Composite(*blocks)


class InternalCoordinateGenerator(nn.Module):
    """All-atom generator over internal coordinates with an exact pose (see the module doc).

    Arguments:
        zmatrix: the molecule's Z-matrix (heavy atoms first).
        reference: ``(N, 3)`` nm structure fixing torsion domains (the energy minimum).
        pose: the pose distribution of the ``rigid`` alignment penalty.
        width, repeats: size of the heavy-atom spline stack.
        hydrogen_width, hydrogen_repeats: size of the conditional hydrogen stack.

    Points are flat ``(B, 3N)`` nm, as for every generator in :mod:`molgen`.
    """

    exact_density = True

    def __init__(
        self,
        zmatrix: ZMatrix,
        reference: Tensor,
        pose: RigidPose,
        width: int = 128,
        repeats: int = 4,
        hydrogen_width: int = 128,
        hydrogen_repeats: int = 4,
    ):
        super().__init__()
        self.zmatrix = zmatrix
        self.n_atoms = zmatrix.n_atoms
        self.dim = 3 * self.n_atoms
        self.heavy_features = 3 * zmatrix.n_heavy - 6
        self.hydrogen_features = 3 * (self.n_atoms - zmatrix.n_heavy)
        self.features = FeatureMap(zmatrix, reference)
        self.pose = pose
        self.heavy_flow = Flow(
            spline_stack(self.heavy_features, repeats, width), self.heavy_features
        )
        self.hydrogen_flow = Flow(
            spline_stack(
                self.hydrogen_features, hydrogen_repeats, hydrogen_width, self.heavy_features
            ),
            self.hydrogen_features,
        )
        self.register_buffer("context_mean", torch.zeros(self.heavy_features))
        self.register_buffer("context_std", torch.ones(self.heavy_features))
        self.register_buffer(
            "heavy_atoms", torch.as_tensor(np.sort(zmatrix.order[: zmatrix.n_heavy]))
        )
        self.register_buffer(
            "hydrogens", torch.as_tensor(np.sort(zmatrix.order[zmatrix.n_heavy :]))
        )
        self.register_buffer("rotors", torch.as_tensor(zmatrix.rotors))

    @property
    def latent_dim(self) -> int:
        """Latent size: heavy features, hydrogen features and 7 pose numbers."""
        return self.heavy_features + self.hydrogen_features + POSE_LATENT_DIM

    def to_atoms(self, x: Tensor) -> Tensor:
        """``(B, 3N)`` → ``(B, N, 3)``."""
        return x.reshape(x.shape[0], self.n_atoms, 3)

    def _context(self, heavy: Tensor) -> Tensor:
        return (heavy - self.context_mean) / self.context_std

    def sample(self, n: int, context=None, generator: torch.Generator | None = None):
        """``n`` samples ``(n, 3N)`` nm and their log densities ``(n,)``."""
        reference = self.context_mean
        z = torch.randn(
            n, self.latent_dim, generator=generator, dtype=reference.dtype, device=reference.device
        )
        return self.sample_from_latent(z)

    def sample_from_latent(self, z: Tensor, context=None) -> tuple[Tensor, Tensor]:
        """``x`` ``(B, 3N)`` and ``log p(x)`` ``(B,)`` for standard normal ``z`` ``(B, latent)``."""
        z_heavy, z_hydrogens, z_pose = z.split(
            [self.heavy_features, self.hydrogen_features, POSE_LATENT_DIM], dim=1
        )
        heavy, log_prob = self.heavy_flow.sample_from_latent(z_heavy)
        hydrogens, log_prob_h = self.hydrogen_flow.sample_from_latent(
            z_hydrogens, self._context(heavy)
        )
        internal, log_jacobian = self.features(torch.cat([heavy, hydrogens], dim=1))
        shape = on_finite_rows(self.pose.aligned, to_cartesian(internal, self.zmatrix))
        rotation, translation = self.pose.from_latent(z_pose)
        x = shape @ rotation.mT + translation[:, None]
        log_prob = (
            log_prob
            + log_prob_h
            - log_jacobian
            - log_volume(internal)
            + self.pose.log_prob(rotation, translation)
        )
        return x.flatten(1), log_prob

    def log_prob(self, x: Tensor, context=None) -> Tensor:
        """``log p(x)`` ``(B,)`` for flat ``x`` ``(B, 3N)``; ``-inf`` outside the domain."""
        atoms = self.to_atoms(x)
        internal = to_internal(atoms, self.zmatrix)
        features, log_jacobian = self.features.inverse(internal)
        heavy, hydrogens = features.split([self.heavy_features, self.hydrogen_features], dim=1)
        _, rotation, translation = on_finite_rows(self.pose.pose, atoms)
        log_prob = (
            self.heavy_flow.log_prob(heavy)
            + self.hydrogen_flow.log_prob(hydrogens, self._context(heavy))
            - log_jacobian
            - log_volume(internal)
            + self.pose.log_prob(rotation, translation)
        )
        return torch.where(torch.isfinite(log_jacobian), log_prob, -math.inf)

    def energy_of_generation(self, x: Tensor, context=None) -> Tensor:
        """``U_G = -log p_G`` (thesis eq. 41)."""
        return -self.log_prob(x)

    def _rotor_shifts(self, atoms: Tensor) -> Tensor:
        """``(B, R)``: for each rotor, which of its hydrogens (0, 1, 2 in rotor order) is
        nearest the reference torsion."""
        first_atoms = self.zmatrix.order[3:]
        shifts = []
        for rotor in self.rotors.tolist():
            row = int(np.flatnonzero(first_atoms == rotor[0])[0])
            j, k, l = (int(a) for a in self.zmatrix.references[row])
            middle = self.features.torsion_low[row] + self.features.torsion_width[row] / 2
            torsions = torch.stack(
                [dihedral(atoms[:, l], atoms[:, k], atoms[:, j], atoms[:, h]) for h in rotor], -1
            )
            distance = torch.remainder(torsions - middle.to(torsions) + torch.pi, 2 * torch.pi)
            shifts.append((distance - torch.pi).abs().argmin(-1))
        return torch.stack(shifts, -1)

    def canonical(self, x: Tensor) -> Tensor:
        """``x`` ``(B, 3N)`` with each rotor's hydrogens cycled so that the first one is
        nearest its reference torsion; energies and label-invariant observables are
        unchanged.
        """
        if len(self.rotors) == 0:
            return x
        atoms = self.to_atoms(x).clone()
        shifts = self._rotor_shifts(atoms)
        for n, rotor in enumerate(self.rotors.tolist()):
            cycled = torch.stack(
                [atoms[:, [rotor[(s + m) % 3] for m in range(3)]] for s in range(3)], dim=1
            )
            atoms[:, rotor] = cycled[torch.arange(len(atoms)), shifts[:, n]]
        return atoms.reshape(x.shape)

    def is_canonical(self, x: Tensor) -> Tensor:
        """``(B,)`` bool: ``x`` ``(B, 3N)`` is its own canonical labelling.

        The canonical labellings form a fundamental domain of the rotors' label cycles
        (each configuration once). The generator's domain is slightly larger (a rotor
        torsion within ±90°, since the nearest hydrogen can sit a few degrees beyond 60°
        when the three are unevenly spaced), so importance weights are restricted to this
        test: samples outside it get weight zero and the weights target the Boltzmann
        distribution on the fundamental domain.
        """
        if len(self.rotors) == 0:
            return torch.ones(x.shape[0], dtype=torch.bool, device=x.device)
        return (self._rotor_shifts(self.to_atoms(x)) == 0).all(-1)

    def fit_to_data(self, x: Tensor) -> None:
        """Set torsion cuts, feature standardisation and the context scale from data
        ``(M, 3N)`` nm: at least 2 frames must lie in the generator's domain (finite
        features), else :class:`~forcefields.errors.TooFewSamplesError`."""
        with torch.no_grad():
            atoms = self.to_atoms(self.canonical(x))
            internal = to_internal(atoms.double(), self.zmatrix)
            self.features.set_cuts(internal)
            features, log_jacobian = self.features.inverse(internal.to(atoms.dtype))
            features = features[torch.isfinite(log_jacobian)]
            if features.shape[0] < 2:
                raise TooFewSamplesError(
                    f"internal-coordinate fit: {features.shape[0]} of {x.shape[0]} frame(s) "
                    "lie in the generator's domain; the standardisation needs at least 2"
                )
            heavy, hydrogens = features.split([self.heavy_features, self.hydrogen_features], 1)
            for flow, data in ((self.heavy_flow, heavy), (self.hydrogen_flow, hydrogens)):
                fitted = Standardize.fit(data)
                flow.transform.layers[-1].mean.copy_(fitted.mean)
                flow.transform.layers[-1].std.copy_(fitted.std)
            self.context_mean.copy_(heavy.mean(0))
            self.context_std.copy_(heavy.std(0).clamp_min(1e-6))


def internal_generator(
    system,
    pose: RigidPose,
    width: int = 128,
    repeats: int = 4,
    hydrogen_width: int = 128,
    hydrogen_repeats: int = 4,
) -> InternalCoordinateGenerator:
    """An :class:`InternalCoordinateGenerator` for a molecular :class:`systems.System`."""
    bonds = [(bond[0].index, bond[1].index) for bond in system.topology.bonds]
    zmatrix = build_zmatrix(system.heavy_atoms, system.hydrogens, bonds)
    placed, (j, k, l) = zmatrix.order[3:], zmatrix.references.T
    triples = np.concatenate(
        [zmatrix.order[None, :3], np.stack([placed, j, k], 1), np.stack([j, k, l], 1)]
    )
    names = [atom.name for atom in system.topology.atoms]
    refuse_collinear(system.positions, triples, names, f"{system.name}: internal coordinates")
    reference = torch.as_tensor(system.positions, dtype=torch.float64)
    return InternalCoordinateGenerator(
        zmatrix, reference, pose, width, repeats, hydrogen_width, hydrogen_repeats
    )
