"""Wasserstein gradient flow by a sequence of JKO steps with input-convex potentials."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any, Protocol

import torch
from torch import Tensor, nn

from .exact_logdet import ExactLogDet
from .functionals import StepBatch
from .identity import fit_identity
from .inversion import invert_gradient_map
from .step import LogDet, StepSettings, cloud_objective, map_and_logdet, train_step

__all__ = ["Distribution", "JKOFlow"]


class _IdentityPotential(nn.Module):
    """:math:`u(x) = |x|^2 / 2` ``(N, D) -> (N,)``, whose gradient map moves no particle."""

    def forward(self, x: Tensor) -> Tensor:
        return 0.5 * x.square().sum(-1)


class Distribution(Protocol):
    """A density that can be sampled: ``sample(n) -> (n, D)``, ``log_prob(x) -> (n,)``."""

    def sample(self, n: int) -> Tensor: ...

    def log_prob(self, x: Tensor) -> Tensor: ...


class JKOFlow:
    r"""Gradient flow :math:`\rho_0 \to \rho_1 \to \dots` of a functional by JKO steps.

    Step :math:`k` fits a convex :math:`u_k` on a particle cloud of :math:`\rho_{k-1}`
    (see :func:`~molgen.jko.step.train_step`) and pushes the cloud by :math:`\nabla u_k`,
    updating the particles' log-densities with
    :math:`\log\rho_k(\nabla u_k(x)) = \log\rho_{k-1}(x) - \log\det\nabla^2 u_k(x)`.
    The log-densities are always pushed with exact log-determinants, whatever backend
    trains the maps (as in sampling and ``resample`` mode): a stochastic estimate's probe
    noise would otherwise accumulate in each particle's :math:`\log\rho` over the steps.
    In ``fixed`` mode the same cloud is carried through all steps; in ``resample`` mode a
    fresh cloud is drawn from :math:`\rho_0` and pushed through all maps before each step
    (cost quadratic in the number of steps, no overfitting to one cloud).

    References:
        | Optimizing Functionals on the Space of Probabilities with Input Convex Neural
          Networks (Alvarez-Melis et al., 2021), Alg. 1 and 2
        | Large-Scale Wasserstein Gradient Flows (Mokrov et al., 2021), Alg. 1

    Arguments:
        initial: :math:`\rho_0`.
        functional: Energy functional of a :class:`~molgen.jko.functionals.StepBatch`.
        make_potential: Builds a fresh input-convex network.
        settings: Step size and optimisation settings.
        cloud_size: Number of particles :math:`N`.
        mode: ``fixed`` or ``resample``.
        warm_start: Start each step from the previous potential instead of the identity.
        logdet: Log-determinant backend used in training (default exact).
        identity_iterations: Updates that fit a fresh potential to the identity map.

    Example:
        >>> from molgen.jko import FICNN, Gaussian, FreeEnergy, PotentialEnergy, entropy
        >>> free_energy = FreeEnergy([PotentialEnergy(lambda x: x.square().sum(-1)), entropy()])
        >>> flow = JKOFlow(Gaussian.standard(2), free_energy, lambda: FICNN(2, (8, 8)),
        ...                StepSettings(step_size=0.1, iterations=5), cloud_size=64)
        >>> losses = flow.step()
        >>> flow.time
        0.1
    """

    def __init__(
        self,
        initial: Distribution,
        functional: Callable[[StepBatch], Tensor],
        make_potential: Callable[[], nn.Module],
        settings: StepSettings,
        cloud_size: int = 1024,
        mode: str = "fixed",
        warm_start: bool = True,
        logdet: LogDet | None = None,
        identity_iterations: int = 500,
    ):
        if mode not in ("fixed", "resample"):
            raise ValueError(f"mode must be 'fixed' or 'resample', got {mode!r}")
        self.initial = initial
        self.functional = functional
        self.make_potential = make_potential
        self.settings = settings
        self.cloud_size = cloud_size
        self.mode = mode
        self.warm_start = warm_start
        self.logdet = logdet or ExactLogDet()
        self.identity_iterations = identity_iterations
        self.potentials: list[nn.Module] = []
        self.restart_objectives: list[float] = []
        self.start_objective = math.nan
        self.particles = initial.sample(cloud_size)
        self.log_density = initial.log_prob(self.particles)

    @property
    def time(self) -> float:
        """Flow time reached, :math:`k\\tau`."""
        return len(self.potentials) * self.settings.step_size

    def step(self, progress: Callable[[float], None] | None = None) -> list[float]:
        """Performs one JKO step and returns the training losses (of the kept fit).

        With ``settings.restarts`` :math:`R > 1` a fit that does not lower the JKO objective on
        the whole cloud (:func:`~molgen.jko.step.cloud_objective`) below both its starting
        map's (the warm start, or a fresh network) and the identity map's (give or take
        ``settings.restart_tolerance``) has failed
        (diverged, or stuck in a worse optimum; not moving is always feasible, so a true
        minimiser is never above the identity): the step is fitted again, from the same
        start with a new minibatch stream (or a fresh network fitted to the identity), up to
        :math:`R` fits in all, and the fit with the lowest objective is kept. The objectives
        are left in :attr:`start_objective` (the lower of the two references) and
        :attr:`restart_objectives` (``nan`` and empty for :math:`R = 1`, which evaluates
        nothing).
        """
        if self.mode == "resample" and self.potentials:
            self.particles, self.log_density = self.sample(self.cloud_size)
        self.restart_objectives = []
        self.start_objective = math.nan
        if self.settings.restarts == 1:
            potential = self._initial_potential()
            losses = self._fit(potential, progress)
        else:
            potential, losses = self._best_of_restarts(progress)
        potential.requires_grad_(False)
        self.potentials.append(potential)
        self.particles, self.log_density = push(
            potential, self.particles, self.log_density, ExactLogDet()
        )
        return losses

    def _fit(self, potential: nn.Module, progress: Callable[[float], None] | None) -> list[float]:
        """Trains ``potential`` on this step's cloud and returns its losses."""
        return train_step(
            potential,
            self.particles,
            self.log_density,
            self.functional,
            self.logdet,
            self.settings,
            progress,
        )

    def _best_of_restarts(
        self, progress: Callable[[float], None] | None
    ) -> tuple[nn.Module, list[float]]:
        """Fits until one beats :attr:`start_objective` or ``restarts`` fits are spent; returns
        the lowest-objective potential and its losses (see :meth:`step`)."""
        potential = self._initial_potential()
        self.start_objective = min(
            self._objective(potential), self._objective(_IdentityPotential())
        )
        best: tuple[float, nn.Module, list[float]] | None = None
        for attempt in range(self.settings.restarts):
            if attempt:
                potential = self._initial_potential()
            losses = self._fit(potential, progress)
            value = self._objective(potential)
            self.restart_objectives.append(value)
            if best is None or value < best[0]:
                best = (value, potential, losses)
            if value < self.start_objective + self.settings.restart_tolerance:
                break
        _, potential, losses = best
        return potential, losses

    def _objective(self, potential: nn.Module) -> float:
        """JKO objective of ``potential`` on the whole cloud (``inf`` for ``nan``)."""
        value = cloud_objective(
            potential,
            self.particles,
            self.log_density,
            self.functional,
            self.logdet,
            self.settings.step_size,
        )
        return math.inf if math.isnan(value) else value

    def _initial_potential(self) -> nn.Module:
        """The previous potential (warm start) or a fresh network fitted to the identity."""
        if self.warm_start and self.potentials:
            return copy.deepcopy(self.potentials[-1]).requires_grad_(True)
        potential = self.make_potential()
        fit_identity(potential, self.particles, self.identity_iterations)
        return potential

    def state_dict(self) -> dict[str, Any]:
        """The flow after its last step: potentials' weights, the cloud ``(N, D)`` and its
        log-densities ``(N,)`` (tensors, lists and dicts only, so it loads with
        ``torch.load(..., weights_only=True)``)."""
        return {
            "potentials": [potential.state_dict() for potential in self.potentials],
            "particles": self.particles,
            "log_density": self.log_density,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores :meth:`state_dict` into a flow built with the same settings."""
        self.potentials = []
        for weights in state["potentials"]:
            potential = self.make_potential()
            potential.load_state_dict(weights)
            self.potentials.append(potential.requires_grad_(False))
        self.particles = state["particles"]
        self.log_density = state["log_density"]

    def sample(self, n: int) -> tuple[Tensor, Tensor]:
        """Draws ``n`` points of :math:`\\rho_k` with their log-densities, ``(n, D)``, ``(n,)``."""
        x = self.initial.sample(n)
        log_density = self.initial.log_prob(x)
        for potential in self.potentials:
            x, log_density = push(potential, x, log_density, ExactLogDet())
        return x, log_density

    def log_prob(self, y: Tensor) -> Tensor:
        """Returns :math:`\\log\\rho_k(y)`, shape ``(n,)``, by inverting every map."""
        logdets = torch.zeros(len(y), dtype=y.dtype, device=y.device)
        for potential in reversed(self.potentials):
            y = invert_gradient_map(potential, y)
            logdets = logdets + logdet_in_chunks(potential, y, ExactLogDet())
        return self.initial.log_prob(y) - logdets


def logdet_in_chunks(
    potential: nn.Module, x: Tensor, logdet: LogDet, chunk_size: int = 4096
) -> Tensor:
    """Returns :math:`\\log\\det\\nabla^2 u(x)`, shape ``(N,)``, without a graph."""
    return _map_and_logdet_in_chunks(potential, x, logdet, chunk_size)[1]


def _map_and_logdet_in_chunks(
    potential: nn.Module, x: Tensor, logdet: LogDet, chunk_size: int
) -> tuple[Tensor, Tensor]:
    """Returns :math:`\\nabla u(x)` ``(N, D)`` and :math:`\\log\\det\\nabla^2 u(x)` ``(N,)``,
    detached, chunk by chunk (:func:`~molgen.jko.step.map_and_logdet`)."""
    pairs = [
        map_and_logdet(potential, chunk, logdet, create_graph=False)
        for chunk in x.split(chunk_size)
    ]
    return torch.cat([y for y, _ in pairs]), torch.cat([value for _, value in pairs])


def push(
    potential: nn.Module, x: Tensor, log_density: Tensor, logdet: LogDet, chunk_size: int = 4096
) -> tuple[Tensor, Tensor]:
    """Pushes points and their log-densities through :math:`\\nabla u`, ``(N, D)``, ``(N,)``."""
    pushed, logdets = _map_and_logdet_in_chunks(potential, x, logdet, chunk_size)
    return pushed, log_density - logdets
