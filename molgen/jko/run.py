"""Runs a configured JKO-ICNN flow, with optional Euler-Maruyama baseline, into a directory."""

from __future__ import annotations

import time as clock
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from tqdm import tqdm

from forcefields.atomic_files import (
    remove_stale_temporaries,
    strict_json_text,
    write_text_atomic,
)
from forcefields.devices import finish_device_work
from forcefields.errors import InputFileError
from molgen.yaml_numbers import safe_dump, safe_load
from systems.reference.atomic_files import write_json_atomic as write_strict_json_atomic

from .baselines import euler_maruyama
from .checkpoint import (
    JKOCheckpointError,
    check_run_state,
    config_difference,
    load_run_state,
    save_run_state,
)
from .config import JKOConfig, config_to_dict
from .dense_icnn import DenseICNN
from .exact_logdet import ExactLogDet
from .flow import JKOFlow
from .icnn import FICNN
from .plots import plot_marginals
from .presets import Problem, build_problem
from .quadratic_residual import QuadraticResidual
from .step import StepSettings
from .stochastic_logdet import StochasticLogDet

__all__ = [
    "hardware_name",
    "build_flow",
    "run_flow",
    "run_baseline",
    "run_experiment",
    "seeded_problem",
]


def _make_network(config: JKOConfig) -> torch.nn.Module:
    settings, dim = config.network, config.dim
    if settings.kind == "dense":
        network = DenseICNN(
            dim,
            tuple(settings.hidden),
            settings.rank,
            settings.activation,
            settings.strong_convexity,
        )
    else:
        network = FICNN(dim, tuple(settings.hidden), settings.activation, settings.strong_convexity)
    return QuadraticResidual(network, dim) if settings.quadratic_residual else network


def hardware_name(device: str) -> str:
    """The hardware behind ``device``: the GPU's name, or the CPU with its torch threads."""
    if torch.device(device).type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU, {torch.get_num_threads()} torch threads"


def build_flow(config: JKOConfig, problem: Problem) -> JKOFlow:
    """The :class:`JKOFlow` that ``config`` describes for ``problem``."""
    flow = config.flow
    logdet = (
        StochasticLogDet(
            config.logdet.probes,
            config.logdet.lanczos_steps,
            config.logdet.cg_iterations,
            config.logdet.cg_tolerance,
        )
        if config.logdet.backend == "stochastic"
        else ExactLogDet()
    )
    settings = StepSettings(
        step_size=flow.step_size,
        iterations=flow.iterations,
        learning_rate=flow.learning_rate,
        batch_size=flow.batch_size or None,
        anneal=flow.anneal,
        affine_lr_scale=flow.affine_lr_scale,
        restarts=flow.restarts,
        restart_tolerance=flow.restart_tolerance,
    )
    return JKOFlow(
        problem.initial,
        problem.functional,
        lambda: _make_network(config),
        settings,
        cloud_size=flow.cloud_size,
        mode=flow.mode,
        warm_start=flow.warm_start,
        logdet=logdet,
    )


def _evaluation_steps(config: JKOConfig) -> Iterator[int]:
    """The steps evaluated, in order: every ``evaluate_every``-th and the last, generated
    one at a time (a huge ``flow.steps`` must not build a list of them)."""
    every = config.evaluate_every or config.flow.steps
    yield from range(every, config.flow.steps, every)
    yield config.flow.steps


def _is_evaluated(step: int, config: JKOConfig) -> bool:
    """Whether :func:`_evaluation_steps` yields ``step``."""
    every = config.evaluate_every or config.flow.steps
    return step % every == 0 or step == config.flow.steps


def run_flow(
    config: JKOConfig,
    problem: Problem,
    progress: bool = True,
    checkpoint: Path | None = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Runs the JKO flow, evaluating ``problem`` at the configured steps.

    Arguments:
        config: The run's configuration.
        problem: The problem it solves.
        progress: Show a progress bar.
        checkpoint: File rewritten atomically after every step (``None``: no checkpoints).
        resume: Continue from ``checkpoint`` instead of starting at step 0; the numbers
            are those of an uninterrupted run (same machine and thread count).

    Returns:
        ``step``, ``seconds`` (training time of all steps, resumed runs included),
        ``losses`` (per step), ``metrics`` and ``snapshots`` (observable of
        ``evaluation_samples`` cloud particles) keyed by time, and the ``flow``.
    """
    flow = build_flow(config, problem)
    state: dict[str, Any] = {
        "step": 0,
        "seconds": 0.0,
        "losses": [],
        "metrics": {},
        "snapshots": {},
    }
    if resume:
        state = load_run_state(checkpoint, config, flow, problem.functional)
    bar = tqdm(
        range(state["step"] + 1, config.flow.steps + 1),
        desc="JKO steps",
        initial=state["step"],
        total=config.flow.steps,
        disable=not progress,
    )
    for step in bar:
        flow.settings = replace(flow.settings, learning_rate=config.flow.learning_rate_at(step))
        start = clock.perf_counter()
        step_losses = flow.step()
        finish_device_work(config.device)
        state["seconds"] += clock.perf_counter() - start
        line = {"step": step, "time": flow.time, "final_loss": step_losses[-1]}
        if flow.restart_objectives:
            line["start_objective"] = flow.start_objective
            line["restart_objectives"] = flow.restart_objectives
        state["losses"].append(line)
        bar.set_postfix(loss=f"{step_losses[-1]:.4g}")
        if _is_evaluated(step, config):
            key = f"{flow.time:.6g}"
            state["metrics"][key] = _evaluate_noting_warnings(
                problem, flow, config.evaluation_samples
            )
            state["snapshots"][key] = problem.observable(
                flow.particles[: config.evaluation_samples]
            ).cpu()
        state["step"] = step
        if checkpoint is not None:
            save_run_state(checkpoint, config, flow, problem.functional, state)
    return {**state, "flow": flow}


def _evaluate_noting_warnings(problem: Problem, flow: JKOFlow, samples: int) -> dict[str, Any]:
    """``problem.evaluate(flow, samples)`` with the distinct messages of the warnings it
    raised (an inversion that did not converge makes densities, and so SymKL, unreliable)
    under ``warnings``; each warning is raised again for the caller to see."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        metrics = problem.evaluate(flow, samples)
    messages = list(dict.fromkeys(str(warning.message) for warning in caught))
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return {**metrics, "warnings": messages} if messages else metrics


def run_baseline(
    config: JKOConfig,
    problem: Problem,
    on_evaluation: Callable[[str, dict[str, Any], float], None] | None = None,
) -> dict[str, Any] | None:
    """Euler-Maruyama particles evaluated at the same times as the flow (``None`` if off).

    ``on_evaluation(time, metrics, seconds)``, if given, is called after each evaluation
    time with the metrics there and the simulation seconds so far (e.g. to save partial
    results of a long run).
    """
    if not config.baseline.particles or problem.drift_gradient is None:
        return None
    particles = problem.initial.sample(config.baseline.particles)
    metrics, elapsed, now = {}, 0.0, 0.0
    for step in _evaluation_steps(config):
        target_time = step * config.flow.step_size
        start = clock.perf_counter()
        particles = euler_maruyama(
            problem.drift_gradient,
            particles,
            target_time - now,
            config.baseline.time_step,
            problem.temperature,
        )
        finish_device_work(config.device)
        elapsed += clock.perf_counter() - start
        now = target_time
        if problem.evaluate_particles is not None:
            metrics[f"{now:.6g}"] = problem.evaluate_particles(particles, now)
            if on_evaluation is not None:
                on_evaluation(f"{now:.6g}", metrics[f"{now:.6g}"], elapsed)
    return {"seconds": elapsed, "metrics": metrics}


def run_experiment(
    config: JKOConfig, out: str | Path, progress: bool = True, resume: bool = False
) -> dict[str, Any]:
    """Runs ``config`` and writes ``config.yaml``, ``checkpoints/flow.pt`` (after every
    step), ``metrics.json``, ``steps.jsonl`` and ``plots/marginals.png`` into ``out``
    (each file atomically).

    Arguments:
        config: The run's configuration.
        out: Run directory.
        progress: Show a progress bar.
        resume: Continue a killed run from ``out/checkpoints/flow.pt``.

    Returns the metrics written to ``metrics.json``: at least ``preset``, ``dim``,
    ``seconds``, ``hardware`` (:func:`hardware_name`) and, where an exact or reference
    density exists, ``symkl`` by time.

    Raises:
        JKOConfigError: a value the preset cannot use (before anything is written).
        InputFileError: ``out`` already holds a checkpoint and ``resume`` is off, ``out``
            holds files but no ``config.yaml`` (not a run folder) and ``resume`` is off,
            ``out`` holds a run of
            another configuration (its ``config.yaml`` differs), or the
            checkpoint cannot be resumed (all checked before anything is written).

    ``resume`` of a run stopped before its first checkpoint (``config.yaml`` of the same
    configuration but no checkpoint) starts it again from step 0.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputFileError(f"{out}: a file, not a folder for the run")
    checkpoint = out / "checkpoints" / "flow.pt"
    if not resume and checkpoint.exists():
        raise InputFileError(f"{out}: already holds a run; pass --resume or a new --out")
    if not resume and out.is_dir() and any(out.iterdir()) and not (out / "config.yaml").is_file():
        raise InputFileError(
            f"{out}: holds files that are not a molgen jko run (no config.yaml); "
            "pass a new or empty --out"
        )
    _check_saved_config(out / "config.yaml", config)
    resume_from_checkpoint = resume and checkpoint.exists()
    if resume_from_checkpoint:
        check_run_state(checkpoint, config)
    elif resume and not (out / "config.yaml").is_file():
        raise JKOCheckpointError(f"{checkpoint}: no checkpoint to resume from")
    with seeded_problem(config) as problem:
        remove_stale_temporaries(out, out / "checkpoints", out / "plots")
        write_text_atomic(out / "config.yaml", safe_dump(config_to_dict(config)))
        return _run_and_write(config, problem, out, checkpoint, progress, resume_from_checkpoint)


def _check_saved_config(path: Path, config: JKOConfig) -> None:
    """Refuses a run folder whose ``config.yaml`` is not ``config``'s (another run's)."""
    if not path.is_file():
        return
    try:
        saved = safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise InputFileError(f"{path}: cannot read the folder's configuration ({error})") from error
    field = config_difference(saved, config)
    if field is not None:
        raise InputFileError(
            f"{path}: {path.parent} holds a run of a different configuration ({field}); "
            "use the same config and flags, or a new --out"
        )


@contextmanager
def seeded_problem(config: JKOConfig) -> Iterator[Problem]:
    """Seeds torch and numpy with ``config.seed``, sets the default dtype to
    ``config.dtype`` and, off the CPU, the default device to ``config.device``, and yields
    the built problem; the previous dtype and device are restored on exit.

    Raises:
        JKOConfigError: a value the preset cannot use.
    """
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)
    previous_dtype = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, config.dtype))
    placement = torch.device(config.device) if config.device != "cpu" else nullcontext()
    try:
        with placement:
            yield build_problem(config)
    finally:
        torch.set_default_dtype(previous_dtype)


def _run_and_write(
    config: JKOConfig, problem: Problem, out: Path, checkpoint: Path, progress: bool, resume: bool
) -> dict[str, Any]:
    result = run_flow(config, problem, progress, checkpoint, resume)
    summary: dict[str, Any] = {
        "preset": config.preset,
        "dim": config.dim,
        "seconds": result["seconds"],
        "hardware": hardware_name(config.device),
        "metrics": result["metrics"],
    }
    symkl = {t: m["symkl"] for t, m in result["metrics"].items() if "symkl" in m}
    if symkl:
        summary["symkl"] = symkl
    baseline = run_baseline(config, problem)
    if baseline is not None:
        summary["euler_maruyama"] = baseline
    lines = "".join(strict_json_text(line) + "\n" for line in result["losses"])
    write_text_atomic(out / "steps.jsonl", lines)
    write_strict_json_atomic(out / "metrics.json", summary)
    plot_marginals(
        out / "plots" / "marginals.png",
        {float(time): values for time, values in result["snapshots"].items()},
        problem.reference_marginal,
        f"{config.preset}, D = {config.dim}",
        problem.observable_name,
        problem.reference_label,
    )
    return summary
