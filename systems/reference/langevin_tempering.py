"""Replica-exchange Langevin dynamics of many independent ladders in one torch batch.

State: ``L`` independent ladders of ``K`` temperatures, positions and velocities
``(L, K, N, 3)``; slot ``k`` of every ladder is thermostatted at ``temperatures[k]``.
One iteration is ``steps_per_iteration`` Langevin-middle steps of all ``L K`` replicas at
once (:class:`~systems.reference.langevin_integrator.LangevinMiddle`, forces from one
batched evaluation per step), a recentring of every replica on its centre of mass (the
energy is translation invariant, so this changes no internal coordinate and only keeps
free diffusion from eroding float32 precision), then one sweep of neighbour swaps
(pairs ``(k, k+1)`` with ``k`` even on even iterations, odd on odd ones; see
:mod:`systems.reference.replica_swaps`). After ``burn_in_iterations`` every iteration
records the target slot's energy and mode label of every ladder; every ``save_every``-th
recorded iteration also keeps the target slot's positions.

All random numbers come from one ``torch.Generator``; :meth:`state_dict` holds it with
positions, velocities, forces and records, so a run resumed from a checkpoint continues
with exactly the numbers of an uninterrupted one (same machine, same settings).

Example (a sketch: ``forces``, ``masses`` and ``positions`` are the caller's)::

    sampler = LangevinTempering(forces, masses, [300.0, 400.0], positions, n_ladders=8)
    sampler.run(100)
    sampler.recorded_energies().shape  # torch.Size([100, 8])
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from forcefields.atomic_files import torch_save_atomic
from forcefields.errors import ConfigError, NonFiniteCoordinatesError
from forcefields.units import beta_from_temperature
from systems.reference.langevin_integrator import LangevinMiddle
from systems.reference.molecular_forces import ForceFunction
from systems.reference.replica_swaps import permute_slots, swap_order, swap_pairs
from systems.reference.runaway import RUNAWAY_DISTANCE_NM, runaway_message
from systems.reference.sampler_checkpoints import (
    check_resumable,
    read_sampler_checkpoint,
    stack_records,
)
from systems.reference.stopping import StopCheck, checkpoint_and_stop

__all__ = ["LangevinTempering"]

LabelFunction = Callable[[torch.Tensor], torch.Tensor]

_SETTINGS = ("steps_per_iteration", "timestep", "friction", "burn_in_iterations", "save_every")


class LangevinTempering:
    """Langevin replica exchange over ``L`` independent ladders of ``K`` temperatures.

    Arguments:
        forces: ``(B, N, 3)`` nm → energies ``(B,)`` kJ/mol and forces ``(B, N, 3)``
            kJ/mol/nm, in ``dtype``.
        masses: ``(N,)`` dalton.
        temperatures: ``(K,)`` K, increasing, ``temperatures[0]`` the target.
        initial: ``(N, 3)`` nm, the starting positions of every replica, or ``(S, N, 3)``:
            ladder ``l`` starts from ``initial[l % S]`` (all its replicas alike).
        n_ladders: independent ladders ``L``.
        labels: ``(B, N, 3)`` → ``(B,)`` integer mode labels (torch); ``None``: all 0.
        steps_per_iteration: Langevin steps between swap sweeps.
        timestep: ps. friction: 1/ps.
        burn_in_iterations: iterations run before recording starts.
        save_every: recorded iterations between stored target-slot frames.
        dtype: ``torch.float32`` or ``torch.float64``.
        compile: run each step (integration and forces) through ``torch.compile``.
        seed: seed of the sampler's generator.
        device: where the replicas live and ``forces`` runs (``"cpu"``, ``"cuda"``, …); the
            records and checkpoints are kept on the CPU.
    """

    def __init__(
        self,
        forces: ForceFunction,
        masses: np.ndarray,
        temperatures: Sequence[float],
        initial: np.ndarray,
        n_ladders: int,
        labels: LabelFunction | None = None,
        steps_per_iteration: int = 50,
        timestep: float = 0.001,
        friction: float = 1.0,
        burn_in_iterations: int = 400,
        save_every: int = 10,
        dtype: torch.dtype = torch.float32,
        compile: bool = False,
        seed: int = 0,
        device: torch.device | str = "cpu",
    ):
        if n_ladders < 1:
            raise ConfigError(f"ladders: need at least one, got {n_ladders}")
        self.force_function = forces
        self.labels = labels
        self.device = torch.device(device)
        self.temperatures = torch.as_tensor(np.asarray(temperatures, dtype=np.float64))
        self._slot_temperatures = self.temperatures.to(self.device, dtype)
        self.betas = torch.tensor(
            [beta_from_temperature(float(t)) for t in self.temperatures], device=self.device
        )
        self.steps_per_iteration = int(steps_per_iteration)
        self.timestep = float(timestep)
        self.friction = float(friction)
        self.burn_in_iterations = int(burn_in_iterations)
        self.save_every = int(save_every)
        self.dtype = dtype
        self.integrator = LangevinMiddle(
            masses, temperatures, timestep, friction, dtype, self.device
        )
        masses = torch.as_tensor(np.asarray(masses, dtype=np.float64)).to(self.device, dtype)
        self._mass_fraction = (masses / masses.sum()).reshape(1, 1, -1, 1)
        self.generator = torch.Generator(self.device).manual_seed(seed)
        n_slots = len(self.temperatures)
        starts = torch.as_tensor(np.asarray(initial), dtype=dtype, device=self.device)
        starts = starts.reshape(-1, *starts.shape[-2:])
        self.n_starts = len(starts)
        start_of_ladder = starts[torch.arange(n_ladders, device=self.device) % len(starts)]
        self.positions = start_of_ladder[:, None].expand(-1, n_slots, -1, -1).clone()
        self.velocities = self.integrator.maxwell_boltzmann(self._noise())
        self.energies, self.forces_now = self._evaluate(self.positions)
        self._advance = torch.compile(self._step, dynamic=False) if compile else self._step
        self.iteration = 0
        self.wall_time = 0.0
        self.cpu_time = 0.0
        self.swap_accepted = torch.zeros(max(n_slots - 1, 0), dtype=torch.float64)
        self.swap_proposed = torch.zeros(max(n_slots - 1, 0), dtype=torch.float64)
        self._energies: list[torch.Tensor] = []
        self._labels: list[torch.Tensor] = []
        self._frames: list[torch.Tensor] = []

    @property
    def n_ladders(self) -> int:
        """Independent ladders ``L``."""
        return int(self.positions.shape[0])

    def start_of_ladder(self) -> np.ndarray:
        """Index ``(L,)`` of the starting structure of each ladder."""
        return np.arange(self.n_ladders) % self.n_starts

    @property
    def n_slots(self) -> int:
        """Temperatures per ladder ``K``."""
        return int(self.positions.shape[1])

    @property
    def n_recorded(self) -> int:
        """Recorded (post-burn-in) iterations."""
        return len(self._energies)

    def _noise(self) -> torch.Tensor:
        return torch.randn(
            self.positions.shape, generator=self.generator, dtype=self.dtype, device=self.device
        )

    def _evaluate(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Energies ``(L, K)`` and forces ``(L, K, N, 3)`` of ``positions`` ``(L, K, N, 3)``."""
        energies, forces = self.force_function(positions.reshape(-1, *positions.shape[2:]))
        # Contiguous forces: a compiled step then sees the same strides on every call.
        return energies.reshape(positions.shape[:2]), forces.reshape(positions.shape).contiguous()

    def _step(self, positions, velocities, forces, noise):
        positions, velocities = self.integrator.step(positions, velocities, forces, noise)
        energies, forces = self._evaluate(positions)
        return positions, velocities, energies, forces

    def _recentre(self) -> None:
        centre = (self._mass_fraction * self.positions).sum(dim=2, keepdim=True)
        self.positions = self.positions - centre

    def _swap(self) -> None:
        order, accepted = swap_order(self.energies, self.betas, self.iteration % 2, self.generator)
        tried = swap_pairs(self.n_slots, self.iteration % 2)
        self.swap_accepted += accepted.sum(dim=0).to("cpu", torch.float64)
        self.swap_proposed[tried] += self.n_ladders
        scale = torch.sqrt(self._slot_temperatures / self._slot_temperatures[order])
        self.positions = permute_slots(self.positions, order)
        self.forces_now = permute_slots(self.forces_now, order)
        self.energies = permute_slots(self.energies, order)
        self.velocities = self.integrator.rescale(
            permute_slots(self.velocities, order), self.forces_now, scale[:, :, None, None]
        )

    def iterate(self) -> None:
        """One iteration: Langevin steps, recentring, a swap sweep, then recording."""
        with torch.no_grad():
            for _ in range(self.steps_per_iteration):
                self.positions, self.velocities, self.energies, self.forces_now = self._advance(
                    self.positions, self.velocities, self.forces_now, self._noise()
                )
            self._recentre()
            self._check_stable()
            self._swap()
            if self.iteration >= self.burn_in_iterations:
                self._record()
        self.iteration += 1

    def _check_stable(self) -> None:
        """Raise :class:`NonFiniteCoordinatesError` when the dynamics blew up: a non-finite
        energy, or an atom beyond :data:`~systems.reference.runaway.RUNAWAY_DISTANCE_NM`
        from its replica's centre of mass (the positions are recentred)."""
        if not bool(torch.isfinite(self.energies).all()):
            reason = "non-finite energy"
        else:
            farthest = float(torch.linalg.vector_norm(self.positions, dim=-1).amax())
            if farthest <= RUNAWAY_DISTANCE_NM:
                return
            reason = runaway_message(farthest)
        raise NonFiniteCoordinatesError(
            f"Langevin dynamics became unstable at iteration {self.iteration} ({reason}); "
            f"use a smaller timestep than {self.timestep * 1e3:g} fs"
        )

    def _record(self) -> None:
        target = self.positions[:, 0]
        self._energies.append(self.energies[:, 0].to("cpu", torch.float64))
        if self.labels is None:
            self._labels.append(torch.zeros(self.n_ladders, dtype=torch.int8))
        else:
            self._labels.append(torch.as_tensor(self.labels(target)).to("cpu", torch.int8))
        if self.n_recorded % self.save_every == 0:
            self._frames.append(target.cpu())

    def run(
        self,
        n_recorded: int,
        checkpoint: Path | str | None = None,
        checkpoint_every: int = 500,
        progress: bool = False,
        callback: Callable[[LangevinTempering], None] | None = None,
        stop: StopCheck | None = None,
    ) -> None:
        """Iterate until burn-in is over and ``n_recorded`` iterations are recorded in total.

        Arguments:
            n_recorded: recorded iterations wanted in total (those already recorded, e.g.
                restored from a checkpoint, count).
            checkpoint: file the full state is written to (atomically) every
                ``checkpoint_every`` iterations and at the end.
            progress: show a tqdm progress bar over iterations.
            callback: called with the sampler after every iteration (and its checkpoint).
            stop: asked after every iteration (after ``callback``); ``True`` writes the
                checkpoint and raises :class:`SamplingStopped`.

        ``wall_time`` and ``cpu_time`` (this process's CPU seconds, which on a shared machine
        tell what a dedicated core would take) accumulate the seconds spent here over all
        sessions (a resumed run counts from its checkpoint's values).

        Raises:
            NonFiniteCoordinatesError: the dynamics became unstable (timestep too large).
            SamplingStopped: ``stop`` answered ``True`` (after the checkpoint was written).
        """
        total = self.burn_in_iterations + n_recorded
        started = time.perf_counter() - self.wall_time
        cpu_started = time.process_time() - self.cpu_time
        with tqdm(
            total=total, initial=self.iteration, disable=not progress, unit="it", desc="Langevin RE"
        ) as bar:
            while self.iteration < total:
                self.iterate()
                self.wall_time = time.perf_counter() - started
                self.cpu_time = time.process_time() - cpu_started
                bar.update(1)
                if checkpoint is not None and self.iteration % checkpoint_every == 0:
                    self.save(checkpoint)
                if callback is not None:
                    callback(self)
                if stop is not None and self.iteration < total and stop():
                    checkpoint_and_stop(self, checkpoint, total)
        if checkpoint is not None:
            self.save(checkpoint)

    def recorded_energies(self) -> torch.Tensor:
        """Target-slot energies ``(T, L)`` kJ/mol (float64) of the recorded iterations."""
        return stack_records(self._energies, (0, self.n_ladders), torch.float64)

    def recorded_labels(self) -> torch.Tensor:
        """Target-slot mode labels ``(T, L)`` (int64) of the recorded iterations."""
        return stack_records(self._labels, (0, self.n_ladders), torch.int8).to(torch.int64)

    def saved_frames(self) -> torch.Tensor:
        """Stored target-slot positions ``(F, L, N, 3)`` nm, recorded iterations
        ``save_every, 2 save_every, …`` (see :meth:`saved_iterations`)."""
        return stack_records(self._frames, (0, *self.positions[:, 0].shape), self.dtype)

    def saved_iterations(self) -> np.ndarray:
        """Recorded-iteration number (1-based) of each stored frame, ``(F,)``."""
        return self.save_every * np.arange(1, len(self._frames) + 1)

    def swap_acceptance(self) -> torch.Tensor:
        """Acceptance rate ``(K − 1,)`` of swaps between slots ``k`` and ``k + 1``."""
        return self.swap_accepted / self.swap_proposed.clamp(min=1.0)

    def state_dict(self) -> dict:
        """Everything needed to continue: settings, state, generator, records (tensors only)."""
        return {
            **{name: getattr(self, name) for name in _SETTINGS},
            "temperatures": self.temperatures,
            "positions": self.positions.cpu(),
            "velocities": self.velocities.cpu(),
            "energies": self.energies.cpu(),
            "forces": self.forces_now.cpu(),
            "iteration": self.iteration,
            "wall_time": self.wall_time,
            "cpu_time": self.cpu_time,
            "generator": self.generator.get_state(),
            "swap_accepted": self.swap_accepted,
            "swap_proposed": self.swap_proposed,
            "recorded_energies": self.recorded_energies(),
            "recorded_labels": stack_records(self._labels, (0, self.n_ladders), torch.int8),
            "saved_frames": self.saved_frames(),
        }

    def save(self, path: Path | str) -> None:
        """Write :meth:`state_dict` to ``path`` atomically."""
        torch_save_atomic(path, self.state_dict(), mode=0o644)

    def load_state_dict(self, state: dict) -> None:
        """Continue from a :meth:`state_dict` of a sampler with the same settings and shape."""
        check_resumable(
            state,
            "temperatures",
            self.temperatures,
            self.positions.shape,
            {name: getattr(self, name) for name in _SETTINGS},
        )
        if state["positions"].dtype != self.dtype:
            raise ConfigError(f"checkpoint: dtype {state['positions'].dtype}, sampler {self.dtype}")
        if state["generator"].shape != self.generator.get_state().shape:
            raise ConfigError(
                f"checkpoint: its random stream belongs to another kind of device than "
                f"{self.device.type}; resume on the device that wrote it"
            )
        self.positions = state["positions"].to(self.device)
        self.velocities = state["velocities"].to(self.device)
        self.energies = state["energies"].to(self.device)
        self.forces_now = state["forces"].to(self.device)
        self.iteration = int(state["iteration"])
        self.wall_time = float(state["wall_time"])
        self.cpu_time = float(state["cpu_time"])
        self.generator.set_state(state["generator"])
        self.swap_accepted = state["swap_accepted"].clone()
        self.swap_proposed = state["swap_proposed"].clone()
        self._energies = list(state["recorded_energies"])
        self._labels = list(state["recorded_labels"])
        self._frames = list(state["saved_frames"])

    def load(self, path: Path | str) -> None:
        """Continue from a checkpoint file (see :func:`read_sampler_checkpoint`)."""
        self.load_state_dict(read_sampler_checkpoint(path, self.state_dict()))
