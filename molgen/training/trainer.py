"""The training loop of ``molgen train``: phases of Adam steps on a loss mixture.

One step: draw this process's share of the batch, evaluate the mixture, back-propagate
(``DistributedDataParallel`` averages gradients across processes), and apply Adam unless
the loss or a gradient is non-finite on any process; such a step is skipped, counted,
and the loss-option states (cache, mode weights) are rolled back. A run resumed from a
checkpoint continues with the same numbers as an uninterrupted run (CPU, same processes).

With several processes each one evaluates the losses on its own share of the batch, so
batch-level statistics (softmax weights, the mean K of ``l2_plus``, PL² references, mode
fractions) come from ``batch_size / world_size`` points: the same estimator as one process
with that smaller batch, whose gradients are then averaged.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

import systems
from forcefields.atomic_files import remove_stale_temporaries, write_text_atomic
from forcefields.devices import resolve_device
from forcefields.errors import ConfigError, InputFileError, MolgenError
from molgen.differences import describe_differences, differing_keys
from molgen.flows.flow import Flow
from molgen.losses import MIN_POINTS
from molgen.training.checkpoints import (
    final_checkpoint,
    latest_checkpoint,
    load_checkpoint,
    periodic_checkpoint_path,
    phase_checkpoint_path,
    prune_periodic_checkpoints,
    save_checkpoint,
)
from molgen.training.config import PhaseConfig, TrainConfig, config_to_mapping, load_config
from molgen.training.data import DataPool, check_data_options, load_data, require_data_file
from molgen.training.distributed import Processes, current_processes, shard_size
from molgen.training.loss_mixture import Objective, build_terms
from molgen.training.metrics import MetricsLog, sample_statistics
from molgen.training.model import build_flow, fit_standardization
from molgen.training.rng import (
    capture_global_state,
    derive_seed,
    restore_global_state,
    seed_everything,
)
from molgen.training.run_state import Position, StopRequest, run_fingerprint, setup_differences
from molgen.training.schedule import make_scheduler
from molgen.training.target import DTYPES, ReducedEnergy
from molgen.yaml_numbers import safe_dump
from systems.registry import System

__all__ = ["TrainResult", "TrainingInterrupted", "train"]

RUN_ENTRIES = {"config.yaml", "metrics.jsonl", "checkpoints", "plots"}
"""What a training run writes in its folder before its first checkpoint."""


class TrainingInterrupted(Exception):
    """Training stopped on SIGINT/SIGTERM after checkpointing the last completed step."""


@dataclass
class TrainResult:
    """Outcome of :func:`train`.

    Attributes:
        step: global steps completed.
        skipped: steps skipped for non-finite values (all phases).
        checkpoint: the last checkpoint written.
        finished: whether every phase is complete.
        flow: the trained generator.
    """

    step: int
    skipped: int
    checkpoint: Path | None
    finished: bool
    flow: Flow


def train(
    config: TrainConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    stop_at_step: int | None = None,
    system: System | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train the flow of ``config`` and write the run directory.

    Arguments:
        config: the run configuration.
        run_dir: directory for ``config.yaml``, ``checkpoints/``, ``metrics.jsonl``.
        resume: continue from the latest checkpoint in ``run_dir``.
        stop_at_step: stop (with a checkpoint) once this global step is reached; a later
            ``resume`` continues exactly.
        system: the system to use instead of ``systems.load(config.system)``.
        progress: show a tqdm bar (main process only).

    Raises:
        ConfigError, InputFileError: bad config, data, run directory or checkpoint.
        TrainingInterrupted: on SIGINT/SIGTERM, after checkpointing.
    """
    trainer = _Trainer(config, Path(run_dir), system, progress)
    return trainer.run(resume, stop_at_step)


class _Trainer:
    def __init__(self, config: TrainConfig, run_dir: Path, system: System | None, progress: bool):
        self.config = config
        self.run_dir = run_dir
        self.checkpoints = run_dir / "checkpoints"
        self.processes: Processes = current_processes()
        self.device = _device(config.device, self.processes)
        self.dtype = DTYPES[config.dtype]
        self.system = system if system is not None else systems.load(config.system)
        self.metrics = MetricsLog(run_dir / "metrics.jsonl")
        self.progress = progress and self.processes.is_main
        self.fingerprint = run_fingerprint(config)
        self.stop = StopRequest()
        self.last_checkpoint: Path | None = None
        # data files read by the input check, by phase index, until their phase starts
        self.read_data: dict[int, torch.Tensor] = {}
        # SHA-256 of those points, by phase index: a resume refuses data that changed
        self.data_digests: dict[str, str] = {}

    # -- set-up ---------------------------------------------------------------------------

    def run(self, resume: bool, stop_at_step: int | None) -> TrainResult:
        self._check_inputs()
        checkpoint = self._resume_point(resume)
        seed_everything(derive_seed(self.config.seed, "init"))
        self.flow = build_flow(self.config.flow, self.system.dimension, self.dtype, self.system).to(
            self.device
        )
        if checkpoint is None:
            # an init file that does not load or fit is refused before anything is written
            self._initialise_weights()
        self._prepare_directory(checkpoint)
        position = Position()
        if checkpoint is None:
            self._seed_streams()
        else:
            position = self._restore(checkpoint)
            # only now that the checkpoint fits the config: a refused resume keeps config.yaml
            self._write_config()
            if checkpoint == final_checkpoint(self.checkpoints):
                if position.phase == len(self.config.phases) - 1:
                    return TrainResult(position.step, position.skipped, checkpoint, True, self.flow)
                checkpoint = self._reopen_finished_run(position)
        if self.processes.is_main:
            self.metrics.start(position.step if checkpoint is not None else None)
        self.last_checkpoint = checkpoint
        total_steps = sum(phase.steps for phase in self.config.phases)
        bar = tqdm(
            total=total_steps, initial=position.step, disable=not self.progress, desc="train"
        )
        try:
            with self.stop.installed():
                finished = self._run_phases(position, checkpoint, stop_at_step, bar)
        finally:
            bar.close()
        return TrainResult(
            position.step, position.skipped, self.last_checkpoint, finished, self.flow
        )

    def _check_inputs(self) -> None:
        """Refuse bad losses, missing input files and unreadable or misshapen data before
        anything is written."""
        for index, phase in enumerate(self.config.phases):
            path = f"phases[{index}]"
            terms = build_terms(phase.losses, phase.loss_options, self.system, path)
            # clip/align options and data options the system cannot take fail now, not
            # when the phase starts after the earlier ones have trained
            ReducedEnergy(
                self.system,
                phase.temperature_factor,
                self.config.energy_dtype,
                "cpu",
                phase.clip,
                phase.align,
                path,
            )
            self._check_batch_size(phase.batch_size, [term.name for term in terms], path)
            if phase.data is not None:
                require_data_file(phase.data, f"{path}.data")
                check_data_options(self.system, phase.data, f"{path}.data")
                if phase.data.source != "exact" and any(t.batch_kind == "data" for t in terms):
                    # read now, and kept for the phase: a wrong array, shape or topology
                    # fails before the earlier phases have trained
                    self.read_data[index] = self._load_phase_data(index)
                    self.data_digests[str(index)] = _points_digest(self.read_data[index])
        if self.config.init is not None and not Path(self.config.init).is_file():
            raise InputFileError(f"init: {self.config.init} not found")

    def _check_data_unchanged(self, path: Path, saved: dict[str, str], phase: int) -> None:
        """Refuse to resume phases up to ``phase`` on data points other than those the
        checkpoint ``path`` was trained on (``saved``: its digests; older checkpoints
        have none). A reference folder regenerated in place, or a data file replaced,
        would otherwise mix two data sets in one run."""
        for key, digest in self.data_digests.items():
            if int(key) <= phase and saved.get(key, digest) != digest:
                data = self.config.phases[int(key)].data
                raise ConfigError(
                    f"{path}: phases[{key}].data ({data.path}) hold other points than when "
                    "the checkpoint was written; resume with the data it trained on, or "
                    "pass a new --out"
                )

    def _check_batch_size(self, batch_size: int, losses: list[str], path: str) -> None:
        """Refuse a batch whose smallest share per process is too small for a loss."""
        world_size = self.processes.world_size
        needed = max((MIN_POINTS.get(name, 1) for name in losses), default=1)
        if batch_size // world_size >= needed:
            return
        which = [name for name in losses if MIN_POINTS.get(name, 1) == needed]
        per_process = f" per process ({world_size} processes)" if world_size > 1 else ""
        raise ConfigError(
            f"{path}.batch_size: {batch_size} gives {batch_size // world_size} point(s)"
            f"{per_process}; {', '.join(which)} needs at least {needed}"
        )

    def _resume_point(self, resume: bool) -> Path | None:
        """The checkpoint to resume from (``None``: start at step 0), checked against
        ``resume``; writes nothing.

        ``resume`` of a run stopped before its first checkpoint (``config.yaml`` but no
        checkpoint) starts it again from step 0.
        """
        checkpoint = latest_checkpoint(self.checkpoints) if self.checkpoints.is_dir() else None
        started = (self.run_dir / "config.yaml").is_file()
        if resume and checkpoint is None and not started:
            raise InputFileError(f"{self.run_dir}: no checkpoint to resume from")
        if not resume and (checkpoint is not None or (self.run_dir / "metrics.jsonl").exists()):
            raise InputFileError(
                f"{self.run_dir}: already holds a run; pass --resume or a new --out"
            )
        if checkpoint is None:
            self._refuse_foreign_folder()
        return checkpoint

    def _refuse_foreign_folder(self) -> None:
        """Refuses to start at step 0 in a folder that holds more than the start of this
        same run (its own ``config.yaml``, ``metrics.jsonl``, ``checkpoints/``, ``plots/``):
        starting there would overwrite the files."""
        if not self.run_dir.is_dir():
            return
        config = self.run_dir / "config.yaml"
        difference = _difference_from_stored(config, self.config) if config.is_file() else ""
        if difference:
            raise InputFileError(
                f"{config}: not this run's configuration ({difference}); pass a new --out"
            )
        foreign = sorted(
            path.name
            for path in self.run_dir.iterdir()
            if path.name not in RUN_ENTRIES and not path.name.startswith(".")
        )
        if foreign:
            raise InputFileError(
                f"{self.run_dir}: holds files that are not a molgen train run "
                f"({', '.join(foreign[:5])}); pass a new or empty --out"
            )

    def _prepare_directory(self, checkpoint: Path | None) -> None:
        """Makes the run's folders and, when starting at step 0 (``checkpoint`` ``None``),
        writes ``config.yaml`` (a resumed run writes it once its checkpoint is accepted)."""
        if self.processes.is_main:
            remove_stale_temporaries(self.run_dir, self.checkpoints)
            self.checkpoints.mkdir(parents=True, exist_ok=True)
            (self.run_dir / "plots").mkdir(exist_ok=True)
        if checkpoint is None:
            self._write_config()
        self.processes.barrier()

    def _config_text(self) -> str:
        """The run's ``config.yaml`` as this configuration writes it."""
        return safe_dump(config_to_mapping(self.config))

    def _write_config(self) -> None:
        """Write ``run_dir/config.yaml`` (main process)."""
        if self.processes.is_main:
            write_text_atomic(self.run_dir / "config.yaml", self._config_text(), mode=0o644)

    def _initialise_weights(self) -> None:
        if self.config.init is not None:
            source = load_checkpoint(Path(self.config.init), self.device)
            try:
                self.flow.load_state_dict(source["model"])
            except RuntimeError as error:
                raise ConfigError(
                    f"init: {self.config.init} does not fit this flow "
                    f"({_init_mismatch(source, self.config, error)})"
                ) from error
            return
        if self.config.flow.standardize or self.config.flow.coordinates == "internal":
            first = next((i for i, p in enumerate(self.config.phases) if p.data is not None), None)
            if first is None:
                raise ConfigError("flow.standardize: no phase has data to fit it on")
            data = self.config.phases[first].data
            try:
                fit_standardization(self.flow, self._data_points(first))
            except ValueError as error:
                where = data.path if data.path is not None else f"source {data.source}"
                fitted = "standardize" if self.config.flow.standardize else "coordinates: internal"
                raise ConfigError(
                    f"flow.{fitted}: fitted on phases[{first}].data ({where}): "
                    f"{' '.join(str(error).split())}"
                ) from error

    def _seed_streams(self) -> None:
        rank = self.processes.rank
        seed_everything(derive_seed(self.config.seed, "train", rank))
        self.data_generator = torch.Generator().manual_seed(
            derive_seed(self.config.seed, "batches", rank)
        )
        self.metrics_generator = torch.Generator(self.device).manual_seed(
            derive_seed(self.config.seed, "metrics")
        )

    def _reopen_finished_run(self, position: Position) -> Path:
        """Phases were appended to a finished run: ``final.pt`` becomes its last phase's end.

        ``final.pt`` holds the same state as ``end_<last phase>.pt``, so renaming it loses
        nothing and lets a later ``--resume`` find the newer periodic checkpoints.
        """
        final = final_checkpoint(self.checkpoints)
        end = phase_checkpoint_path(self.checkpoints, self.config.phases[position.phase].name)
        if self.processes.is_main:
            final.replace(end)
        self.processes.barrier()
        return end

    def _restore(self, path: Path) -> Position:
        # RNG states must be CPU tensors; load_state_dict moves the rest to the device
        payload = load_checkpoint(path, "cpu")
        saved = payload["fingerprint"]
        if saved["setup"] != self.fingerprint["setup"]:
            before, now = json.loads(saved["setup"]), json.loads(self.fingerprint["setup"])
            flow_differs = "flow" in differing_keys(before, now)
            before.pop("flow", None)
            now.pop("flow", None)
            differing = describe_differences(before, now)
            if flow_differs:
                differing.append("flow options")
            raise ConfigError(
                f"{path}: the checkpoint's run differs "
                f"({'; '.join(differing) or 'written differently'}); resume with "
                "the same config, --seed and --init"
            )
        position = Position(**payload["position"])
        difference = _phase_difference(saved["phases"], self.fingerprint["phases"], position.phase)
        if difference:
            raise ConfigError(
                f"{path}: phases[0..{position.phase}] differ from the checkpoint's ({difference})"
            )
        self._check_data_unchanged(path, payload.get("data_digests", {}), position.phase)
        saved_device = payload.get("device_type", "cpu")
        if saved_device != self.device.type:
            raise ConfigError(
                f"{path}: saved by a run on {saved_device}, resumed on {self.device.type}; "
                f"resume with --device {saved_device} (the random streams are per device)"
            )
        self.flow.load_state_dict(payload["model"])
        self.data_generator = torch.Generator()
        self.metrics_generator = torch.Generator(self.device)
        streams = payload["per_process"]
        if len(streams) != self.processes.world_size:
            raise ConfigError(
                f"{path}: saved by {len(streams)} process(es), "
                f"resumed by {self.processes.world_size}"
            )
        mine = streams[self.processes.rank]
        restore_global_state(mine["global"])
        self.data_generator.set_state(mine["batches"])
        self.metrics_generator.set_state(payload["metrics_rng"])
        self.resume_payload = payload
        self.resumed_loss_state = mine["loss_state"]
        return position

    def _load_phase_data(self, phase_index: int) -> torch.Tensor:
        """The data points of phase ``phase_index`` (:func:`load_data`, with its seed)."""
        phase = self.config.phases[phase_index]
        return load_data(
            self.system,
            phase.data,
            phase.temperature_factor,
            derive_seed(self.config.seed, "data", phase_index),
            f"phases[{phase_index}].data",
            phase.align,
        )

    def _data_points(self, phase_index: int) -> torch.Tensor:
        points = self.read_data.pop(phase_index, None)
        if points is None:
            points = self._load_phase_data(phase_index)
        points = points.to(device=self.device, dtype=self.dtype)
        canonical = getattr(self.flow, "canonical", None)
        return points if canonical is None else canonical(points)

    # -- phases ---------------------------------------------------------------------------

    def _run_phases(
        self, position: Position, checkpoint: Path | None, stop_at_step: int | None, bar: tqdm
    ) -> bool:
        resumed_phase = position.phase if checkpoint is not None else None
        for index in range(position.phase, len(self.config.phases)):
            phase = self.config.phases[index]
            if index != position.phase:
                position.phase, position.phase_step, position.phase_skipped = index, 0, 0
            objective, optimizer, scheduler, pool = self._phase_objects(index)
            if index == resumed_phase:
                optimizer.load_state_dict(self.resume_payload["optimizer"])
                scheduler.load_state_dict(self.resume_payload["scheduler"])
                objective.load_state_dicts(self.resumed_loss_state)
            trained = self._wrap(objective)
            timer = time.perf_counter()
            steps_timed = 0
            while position.phase_step < phase.steps:
                if stop_at_step is not None and position.step >= stop_at_step:
                    self._save(position, objective, optimizer, scheduler, periodic=True)
                    return False
                stop = self._step(phase, position, objective, trained, optimizer, scheduler, pool)
                bar.update(1)
                steps_timed += 1
                last = position.phase_step == phase.steps
                if position.phase_step % self.config.metrics.every == 0 or last:
                    seconds = (time.perf_counter() - timer) / steps_timed
                    self._log(phase, position, objective, scheduler, seconds, bar)
                    timer, steps_timed = time.perf_counter(), 0
                if last:
                    self._save(
                        position,
                        objective,
                        optimizer,
                        scheduler,
                        periodic=True,
                        phase_end=phase.name,
                    )
                elif position.step % self.config.checkpoints.every == 0:
                    self._save(position, objective, optimizer, scheduler, periodic=True)
                if stop:
                    if not last:
                        self._save(position, objective, optimizer, scheduler, periodic=True)
                    raise TrainingInterrupted(
                        f"stopped at step {position.step}; resume with --resume"
                    )
        self._save(position, objective, optimizer, scheduler, final=True)
        return True

    def _phase_objects(self, index: int):
        phase = self.config.phases[index]
        path = f"phases[{index}]"
        energy = ReducedEnergy(
            self.system,
            phase.temperature_factor,
            self.config.energy_dtype,
            self.device,
            phase.clip,
            phase.align,
            path,
        )
        terms = build_terms(phase.losses, phase.loss_options, self.system, path)
        objective = Objective(self.flow, terms, energy)
        pool = DataPool(self._data_points(index)) if objective.needs_data else None
        optimizer = torch.optim.Adam(self.flow.parameters(), lr=phase.lr)
        scheduler = make_scheduler(optimizer, phase.schedule, phase.steps)
        return objective, optimizer, scheduler, pool

    def _wrap(self, objective: Objective) -> torch.nn.Module:
        if not self.processes.distributed:
            return objective
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        # a phase may train part of the model only (e.g. hydrogen_energy: the hydrogens)
        return DistributedDataParallel(
            objective, device_ids=device_ids, find_unused_parameters=True
        )

    # -- one step -------------------------------------------------------------------------

    def _step(
        self, phase: PhaseConfig, position, objective, trained, optimizer, scheduler, pool
    ) -> bool:
        count = shard_size(phase.batch_size, self.processes)
        data = pool.batch(count, self.data_generator) if pool is not None else None
        saved_states = objective.state_dicts()
        optimizer.zero_grad(set_to_none=True)
        total, values = trained(count, data)
        total.backward()
        finite = bool(torch.isfinite(total)) and all(
            bool(torch.isfinite(p.grad).all()) for p in self.flow.parameters() if p.grad is not None
        )
        flags = torch.tensor([float(finite), float(self.stop.requested)], dtype=torch.float64)
        # on the model's device: nccl reduces CUDA tensors only
        reduced = self.processes.sum(
            torch.cat([flags, values.double().cpu(), total.detach().double().cpu().reshape(1)]).to(
                self.device
            )
        ).cpu()
        all_finite = reduced[0].item() == self.processes.world_size
        if all_finite and phase.grad_clip is not None:
            # a norm that overflows would scale every gradient to 0 and leave Adam to step
            # on its momentum alone: such a step is skipped like a non-finite one
            norm = torch.nn.utils.clip_grad_norm_(self.flow.parameters(), phase.grad_clip)
            all_finite = bool(torch.isfinite(norm))
        # Adam keeps a running mean of g²: a finite gradient whose square overflows would
        # freeze its parameter for good (m / inf = 0), so such a step is skipped too. The
        # gradients are the same on every process (DDP averages them), so all agree.
        if all_finite and _squares_finite(self.flow.parameters()):
            optimizer.step()
        else:
            objective.load_state_dicts(saved_states)
            position.skipped += 1
            position.phase_skipped += 1
        self.last_lr = scheduler.get_last_lr()[0]
        with warnings.catch_warnings():
            # a skipped first step steps the schedule without an optimizer step, on purpose
            warnings.filterwarnings("ignore", re.escape("Detected call of `lr_scheduler.step()`"))
            scheduler.step()
        position.phase_step += 1
        position.step += 1
        self.last_values = reduced[2:] / self.processes.world_size
        return reduced[1].item() > 0

    # -- output ---------------------------------------------------------------------------

    def _log(self, phase, position, objective, scheduler, seconds: float, bar: tqdm) -> None:
        if not self.processes.is_main:
            return
        values = self.last_values.tolist()
        record: dict[str, Any] = {
            "step": position.step,
            "phase": phase.name,
            "phase_step": position.phase_step,
            "lr": self.last_lr,
            "losses": {
                term.name: value for term, value in zip(objective.terms, values[:-1], strict=True)
            },
            "total": values[-1],
            "skipped": position.phase_skipped,
            "skipped_total": position.skipped,
            "seconds_per_step": seconds,
        }
        if self.config.metrics.samples > 0:
            record["samples"] = sample_statistics(
                self.flow,
                objective.beta_u_b,
                self.system,
                self.config.metrics.samples,
                self.metrics_generator,
            )
        self.metrics.append(record)
        bar.set_postfix(phase=phase.name, total=f"{values[-1]:.4g}", skipped=position.skipped)

    def _save(
        self,
        position,
        objective,
        optimizer,
        scheduler,
        *,
        periodic=False,
        phase_end=None,
        final=False,
    ):
        streams = self.processes.gather(
            {
                "global": capture_global_state(),
                "batches": self.data_generator.get_state(),
                "loss_state": _on_cpu(objective.state_dicts()),
            }
        )
        if not self.processes.is_main:
            return
        payload = {
            "step": position.step,
            "position": vars(position).copy(),
            "fingerprint": self.fingerprint,
            "model": self.flow.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "per_process": streams,
            "metrics_rng": self.metrics_generator.get_state(),
            "device_type": self.device.type,
            "data_digests": self.data_digests,
        }
        targets = []
        # The end-of-phase file goes first: a resume starts from a periodic checkpoint,
        # and one written before a kill at the phase's last step would skip re-creating it.
        if phase_end is not None:
            targets.append(phase_checkpoint_path(self.checkpoints, phase_end))
        if periodic:
            targets.append(periodic_checkpoint_path(self.checkpoints, position.step))
        if final:
            targets.append(final_checkpoint(self.checkpoints))
        for target in targets:
            save_checkpoint(target, payload)
        prune_periodic_checkpoints(self.checkpoints, self.config.checkpoints.keep)
        self.last_checkpoint = targets[-1]


def _on_cpu(states: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Loss-option states with their tensors on the CPU (gathered across processes, saved)."""
    return {
        key: {
            name: value.cpu() if isinstance(value, torch.Tensor) else value
            for name, value in state.items()
        }
        for key, state in states.items()
    }


def _device(name: str, processes: Processes) -> torch.device:
    device = resolve_device(name)
    if device.type == "cuda" and processes.distributed and device.index is None:
        return torch.device("cuda", torch.cuda.current_device())
    return device


def _init_mismatch(source: dict, config: TrainConfig, error: RuntimeError) -> str:
    """Why an init checkpoint's weights do not load: the set-up it was trained for where
    it differs from ``config``'s, else the first line of torch's (long) message."""
    differences = setup_differences(source, config, ("system", "flow"))
    if differences is not None and differences[0]:
        differing, saved = differences
        return (
            f"trained for system {saved.get('system')!r} with another "
            f"{' and '.join(differing)}; this run: system {config.system!r}"
        )
    reason = str(error).strip().splitlines()[0]
    return reason if len(reason) <= 300 else reason[:300] + " ..."


def _squares_finite(parameters) -> bool:
    """Whether every gradient's square is finite in its own dtype (what Adam accumulates)."""
    return all(
        bool(torch.isfinite(p.grad.square()).all()) for p in parameters if p.grad is not None
    )


def _difference_from_stored(stored: Path, config: TrainConfig) -> str:
    """What of the run's set-up and phases (:func:`run_fingerprint`) differs between the
    ``config.yaml`` ``stored`` in a run folder and ``config``; ``""`` when nothing does.
    Where the output, device, metrics and checkpoint settings differ the run is the same."""
    try:
        old = run_fingerprint(load_config(stored))
    except MolgenError:
        return "not a molgen train configuration"
    new = run_fingerprint(config)
    changed = differing_keys(json.loads(old["setup"]), json.loads(new["setup"]))
    if len(old["phases"]) != len(new["phases"]):
        changed.append(f"{len(old['phases'])} phases → {len(new['phases'])}")
    else:
        changed += [
            f"phases[{index}]"
            for index, (before, after) in enumerate(zip(old["phases"], new["phases"], strict=True))
            if before != after
        ]
    return f"it differs in {', '.join(changed)}" if changed else ""


def _phase_difference(saved: list[str], now: list[str], last: int) -> str:
    """How phases ``0 .. last`` of a checkpoint's fingerprint (JSON strings) differ from
    this config's: the first differing phase's keys with both values, or that the config
    lacks it; ``""`` when they agree."""
    for index in range(last + 1):
        if index >= len(now):
            return f"phases[{index}] is missing here"
        if saved[index] != now[index]:
            before, after = json.loads(saved[index]), json.loads(now[index])
            details = describe_differences(before, after, f"phases[{index}].")
            return "; ".join(details) or f"phases[{index}] written differently"
    return ""


def _points_digest(points: torch.Tensor) -> str:
    """Hex SHA-256 of data points ``(M, D)``: their shape, dtype and values."""
    array = points.detach().cpu().contiguous().numpy()
    digest = hashlib.sha256(f"{array.shape} {array.dtype}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()
