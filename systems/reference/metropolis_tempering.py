"""Metropolis–Hastings parallel tempering for torch energies, vectorised over chains and replicas.

State: ``K`` temperatures (replicas) times ``C`` independent chains, positions
``(K, C, *event)``. One iteration is ``steps_per_iteration`` random-walk Metropolis steps
of every replica at once (isotropic Gaussian proposals, one step size per temperature),
then one sweep of swaps between neighbouring temperatures (pairs ``(k, k+1)`` with ``k``
even on even iterations, odd on odd ones), each chain deciding on its own. During the
first ``burn_in_iterations`` the log step sizes follow a Robbins–Monro rule towards the
target acceptance and nothing is recorded; afterwards step sizes are frozen (so the chain
is a proper Markov chain) and every iteration records the target temperature's positions
and every replica's energy and mode label.

References:
    Felardos (2022), thesis fn 28, 30: reference data by Metropolis–Hastings parallel
    tempering, with the alignment penalty part of the energy.

Example:
    >>> from systems.double_well import double_well_medium
    >>> sampler = MetropolisTempering(double_well_medium(), torch.tensor([1.0, 0.5]),
    ...                               torch.zeros(12, dtype=torch.float64), n_chains=8)
    >>> sampler.run(50)
    >>> sampler.recorded_positions().shape
    torch.Size([50, 8, 12])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import torch
from tqdm.auto import tqdm

from forcefields.atomic_files import torch_save_atomic
from systems.reference.replica_swaps import swap_pairs
from systems.reference.sampler_checkpoints import (
    check_resumable,
    read_sampler_checkpoint,
    stack_records,
)
from systems.reference.stopping import StopCheck, checkpoint_and_stop

__all__ = ["MetropolisTempering"]

_SETTINGS = ("steps_per_iteration", "burn_in_iterations", "target_acceptance")

BatchFunction = Callable[[torch.Tensor], torch.Tensor]


class MetropolisTempering:
    """Random-walk Metropolis parallel tempering over ``K`` temperatures and ``C`` chains.

    Arguments:
        energy: ``(B, *event) -> (B,)`` potential energy (any unit ``E``).
        betas: ``(K,)`` inverse temperatures in ``1/E``, ``betas[0]`` the target.
        initial: starting point ``(*event)`` of every replica and chain.
        n_chains: number of independent chains ``C``.
        labels: optional ``(B, *event) -> (B,)`` integer mode labels to record.
        steps_per_iteration: Metropolis steps between swap sweeps.
        burn_in_iterations: iterations of step-size adaptation before recording.
        target_acceptance: acceptance rate the step sizes are adapted to.
        initial_step: starting proposal standard deviation (unit of the coordinates).
        seed: seed of the sampler's ``torch.Generator``.
    """

    def __init__(
        self,
        energy: BatchFunction,
        betas: torch.Tensor,
        initial: torch.Tensor,
        n_chains: int,
        labels: BatchFunction | None = None,
        steps_per_iteration: int = 10,
        burn_in_iterations: int = 200,
        target_acceptance: float = 0.3,
        initial_step: float = 0.1,
        seed: int = 0,
    ):
        self.energy = energy
        self.labels = labels
        self.betas = torch.as_tensor(betas, dtype=initial.dtype)
        self.steps_per_iteration = steps_per_iteration
        self.burn_in_iterations = burn_in_iterations
        self.target_acceptance = target_acceptance
        self.generator = torch.Generator().manual_seed(seed)
        n_states = len(self.betas)
        self.positions = initial.expand(n_states, n_chains, *initial.shape).clone()
        self.energies = self._energy(self.positions)
        self.log_step = torch.full((n_states,), math.log(initial_step), dtype=initial.dtype)
        self.iteration = 0
        self.move_accepted = torch.zeros(n_states, dtype=torch.float64)
        self.move_proposed = torch.zeros(n_states, dtype=torch.float64)
        self.swap_accepted = torch.zeros(max(n_states - 1, 0), dtype=torch.float64)
        self.swap_proposed = torch.zeros(max(n_states - 1, 0), dtype=torch.float64)
        self._target_positions: list[torch.Tensor] = []
        self._ladder_energies: list[torch.Tensor] = []
        self._ladder_labels: list[torch.Tensor] = []

    @property
    def n_states(self) -> int:
        """Number of temperatures ``K``."""
        return int(self.positions.shape[0])

    @property
    def n_chains(self) -> int:
        """Number of chains ``C``."""
        return int(self.positions.shape[1])

    @property
    def n_recorded(self) -> int:
        """Recorded (post-burn-in) iterations."""
        return len(self._ladder_energies)

    def _energy(self, positions: torch.Tensor) -> torch.Tensor:
        """Energies ``(K, C)`` of positions ``(K, C, *event)``; non-finite values become +inf."""
        with torch.no_grad():
            flat = positions.reshape(-1, *positions.shape[2:])
            values = self.energy(flat).reshape(positions.shape[:2]).to(positions.dtype)
        return torch.where(torch.isfinite(values), values, torch.full_like(values, math.inf))

    def _broadcast(self, per_state: torch.Tensor) -> torch.Tensor:
        """``(K,)`` or ``(K, C)`` values shaped to broadcast against positions."""
        extra = self.positions.dim() - per_state.dim()
        return per_state.reshape(*per_state.shape, *([1] * extra))

    def metropolis_step(self) -> torch.Tensor:
        """One Gaussian random-walk step of every replica and chain; returns accepted ``(K, C)``."""
        noise = torch.randn(
            self.positions.shape, generator=self.generator, dtype=self.positions.dtype
        )
        proposal = self.positions + self._broadcast(self.log_step.exp()) * noise
        proposal_energies = self._energy(proposal)
        log_ratio = -self.betas[:, None] * (proposal_energies - self.energies)
        uniform = torch.rand(self.energies.shape, generator=self.generator, dtype=log_ratio.dtype)
        accepted = torch.log(uniform) < log_ratio
        self.positions = torch.where(self._broadcast(accepted), proposal, self.positions)
        self.energies = torch.where(accepted, proposal_energies, self.energies)
        return accepted

    def swap_sweep(self, parity: int) -> None:
        """Propose swaps of neighbours ``(k, k+1)``, ``k ≡ parity (mod 2)``, in every chain."""
        lower = swap_pairs(self.n_states, parity)
        if len(lower) == 0:
            return
        upper = lower + 1
        log_ratio = (self.betas[lower, None] - self.betas[upper, None]) * (
            self.energies[lower] - self.energies[upper]
        )
        uniform = torch.rand(log_ratio.shape, generator=self.generator, dtype=log_ratio.dtype)
        accepted = torch.log(uniform) < log_ratio
        order = torch.arange(self.n_states)[:, None].expand(-1, self.n_chains).clone()
        order[lower] = torch.where(accepted, upper[:, None], lower[:, None])
        order[upper] = torch.where(accepted, lower[:, None], upper[:, None])
        index = order.reshape(*order.shape, *([1] * (self.positions.dim() - 2)))
        self.positions = torch.gather(self.positions, 0, index.expand_as(self.positions))
        self.energies = torch.gather(self.energies, 0, order)
        self.swap_accepted[lower] += accepted.sum(dim=1).to(torch.float64)
        self.swap_proposed[lower] += self.n_chains

    def iterate(self) -> None:
        """One iteration: Metropolis steps, a swap sweep, then adaptation or recording."""
        accepted = torch.zeros(self.n_states, dtype=torch.float64)
        for _ in range(self.steps_per_iteration):
            accepted += self.metropolis_step().to(torch.float64).mean(dim=1)
        rate = accepted / self.steps_per_iteration
        self.swap_sweep(self.iteration % 2)
        if self.iteration < self.burn_in_iterations:
            gain = 1.0 / math.sqrt(1.0 + self.iteration)
            self.log_step += gain * (rate - self.target_acceptance).to(self.log_step.dtype)
        else:
            self.move_accepted += rate * self.n_chains * self.steps_per_iteration
            self.move_proposed += self.n_chains * self.steps_per_iteration
            self._record()
        self.iteration += 1

    def _record(self) -> None:
        self._target_positions.append(self.positions[0].clone())
        self._ladder_energies.append(self.energies.clone())
        if self.labels is None:
            self._ladder_labels.append(torch.zeros(self.energies.shape, dtype=torch.int64))
        else:
            flat = self.positions.reshape(-1, *self.positions.shape[2:])
            with torch.no_grad():
                labels = self.labels(flat).reshape(self.energies.shape)
            self._ladder_labels.append(labels.to(torch.int64))

    def run(
        self,
        n_recorded: int,
        checkpoint: Path | str | None = None,
        checkpoint_every: int = 100,
        progress: bool = False,
        stop: StopCheck | None = None,
    ) -> None:
        """Iterate until burn-in is over and ``n_recorded`` iterations are recorded in total.

        Arguments:
            n_recorded: total number of recorded iterations wanted (already recorded ones,
                e.g. from a checkpoint, count).
            checkpoint: file to save the full state to (atomically) every
                ``checkpoint_every`` iterations and at the end.
            progress: show a tqdm progress bar over iterations.
            stop: asked after every iteration; ``True`` writes the checkpoint and raises
                :class:`SamplingStopped`.
        """
        total = self.burn_in_iterations + n_recorded
        with tqdm(
            total=total, initial=self.iteration, disable=not progress, unit="it", desc="MH-PT"
        ) as bar:
            while self.iteration < total:
                self.iterate()
                bar.update(1)
                if checkpoint is not None and self.iteration % checkpoint_every == 0:
                    self.save(checkpoint)
                if stop is not None and self.iteration < total and stop():
                    checkpoint_and_stop(self, checkpoint, total)
        if checkpoint is not None:
            self.save(checkpoint)

    def recorded_positions(self) -> torch.Tensor:
        """Target-temperature positions ``(T, C, *event)`` of the recorded iterations."""
        return stack_records(
            self._target_positions, (0, *self.positions.shape[1:]), self.positions.dtype
        )

    def recorded_energies(self) -> torch.Tensor:
        """Energies ``(T, K, C)`` of every replica at the recorded iterations."""
        return stack_records(self._ladder_energies, (0, *self.energies.shape), self.energies.dtype)

    def recorded_labels(self) -> torch.Tensor:
        """Mode labels ``(T, K, C)`` (zeros without a ``labels`` function)."""
        return stack_records(self._ladder_labels, (0, *self.energies.shape), torch.int64)

    def acceptance(self) -> torch.Tensor:
        """Metropolis acceptance rate ``(K,)`` over the recorded iterations."""
        return self.move_accepted / self.move_proposed.clamp(min=1.0)

    def swap_acceptance(self) -> torch.Tensor:
        """Swap acceptance rate ``(K-1,)`` of neighbours ``(k, k+1)``."""
        return self.swap_accepted / self.swap_proposed.clamp(min=1.0)

    def state_dict(self) -> dict:
        """Everything needed to continue: tensors, counters and settings (no Python objects)."""
        return {
            "betas": self.betas,
            **{name: getattr(self, name) for name in _SETTINGS},
            "positions": self.positions,
            "energies": self.energies,
            "log_step": self.log_step,
            "iteration": self.iteration,
            "generator": self.generator.get_state(),
            "move_accepted": self.move_accepted,
            "move_proposed": self.move_proposed,
            "swap_accepted": self.swap_accepted,
            "swap_proposed": self.swap_proposed,
            "target_positions": self.recorded_positions(),
            "ladder_energies": self.recorded_energies(),
            "ladder_labels": self.recorded_labels(),
        }

    def save(self, path: Path | str) -> None:
        """Write :meth:`state_dict` to ``path`` atomically."""
        torch_save_atomic(path, self.state_dict(), mode=0o644)

    def load_state_dict(self, state: dict) -> None:
        """Continue from a :meth:`state_dict`; the ladder and settings must match this sampler."""
        check_resumable(
            state,
            "betas",
            self.betas,
            self.positions.shape,
            {name: getattr(self, name) for name in _SETTINGS},
        )
        self.positions = state["positions"].clone()
        self.energies = state["energies"].clone()
        self.log_step = state["log_step"].clone()
        self.iteration = int(state["iteration"])
        self.generator.set_state(state["generator"])
        for name in ("move_accepted", "move_proposed", "swap_accepted", "swap_proposed"):
            setattr(self, name, state[name].clone())
        self._target_positions = list(state["target_positions"])
        self._ladder_energies = list(state["ladder_energies"])
        self._ladder_labels = list(state["ladder_labels"])

    def load(self, path: Path | str) -> None:
        """Continue from a checkpoint file (see :func:`read_sampler_checkpoint`)."""
        self.load_state_dict(read_sampler_checkpoint(path, self.state_dict()))
