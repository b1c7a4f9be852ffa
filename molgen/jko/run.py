"""Runs a configured JKO-ICNN flow, with optional Euler-Maruyama baseline, into a directory."""

from __future__ import annotations

import json
import time as clock
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from .baselines import euler_maruyama
from .config import JKOConfig, config_to_dict
from .dense_icnn import DenseICNN
from .exact_logdet import ExactLogDet
from .flow import JKOFlow
from .icnn import FICNN
from .output import atomic_write, write_json, write_text, write_yaml
from .plots import plot_marginals
from .presets import Problem, build_problem
from .quadratic_residual import QuadraticResidual
from .step import StepSettings
from .stochastic_logdet import StochasticLogDet

__all__ = ["build_flow", "run_flow", "run_baseline", "run_experiment"]


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
        flow.step_size, flow.iterations, flow.learning_rate, flow.batch_size or None, flow.anneal
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


def _evaluation_steps(config: JKOConfig) -> list[int]:
    every = config.evaluate_every or config.flow.steps
    return sorted({*range(every, config.flow.steps + 1, every), config.flow.steps})


def run_flow(config: JKOConfig, problem: Problem, progress: bool = True) -> dict[str, Any]:
    """Runs the JKO flow; returns seconds, per-step losses, metrics, snapshots by time and
    the flow itself."""
    flow = build_flow(config, problem)
    evaluation_steps = _evaluation_steps(config)
    metrics: dict[str, dict[str, float]] = {}
    snapshots: dict[float, torch.Tensor] = {}
    losses = []
    training_seconds = 0.0
    bar = tqdm(range(1, config.flow.steps + 1), desc="JKO steps", disable=not progress)
    for step in bar:
        start = clock.perf_counter()
        step_losses = flow.step()
        training_seconds += clock.perf_counter() - start
        losses.append({"step": step, "time": flow.time, "final_loss": step_losses[-1]})
        bar.set_postfix(loss=f"{step_losses[-1]:.4g}")
        if step in evaluation_steps:
            key = f"{flow.time:.6g}"
            metrics[key] = problem.evaluate(flow, config.evaluation_samples)
            snapshots[flow.time] = flow.sample(config.evaluation_samples)[0][:, 0]
    return {
        "seconds": training_seconds,
        "losses": losses,
        "metrics": metrics,
        "snapshots": snapshots,
        "flow": flow,
    }


def run_baseline(config: JKOConfig, problem: Problem) -> dict[str, Any] | None:
    """Euler-Maruyama particles evaluated at the same times as the flow (``None`` if off)."""
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
        elapsed += clock.perf_counter() - start
        now = target_time
        if problem.evaluate_particles is not None:
            metrics[f"{now:.6g}"] = problem.evaluate_particles(particles, now)
    return {"seconds": elapsed, "metrics": metrics}


def run_experiment(config: JKOConfig, out: str | Path, progress: bool = True) -> dict[str, Any]:
    """Runs ``config`` and writes ``config.yaml``, ``metrics.json``, ``steps.jsonl``,
    ``checkpoints/maps.pt`` (state dicts of the step potentials) and
    ``plots/marginals.png`` into ``out`` (each file atomically).

    Returns the metrics written to ``metrics.json``: at least ``preset``, ``dim``,
    ``seconds`` and, where an exact or reference density exists, ``symkl`` by time.
    """
    out = Path(out)
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)
    write_yaml(out / "config.yaml", config_to_dict(config))
    previous_dtype = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, config.dtype))
    try:
        return _run_and_write(config, out, progress)
    finally:
        torch.set_default_dtype(previous_dtype)


def _run_and_write(config: JKOConfig, out: Path, progress: bool) -> dict[str, Any]:
    problem = build_problem(config)
    result = run_flow(config, problem, progress)
    summary: dict[str, Any] = {
        "preset": config.preset,
        "dim": config.dim,
        "seconds": result["seconds"],
        "metrics": result["metrics"],
    }
    symkl = {t: m["symkl"] for t, m in result["metrics"].items() if "symkl" in m}
    if symkl:
        summary["symkl"] = symkl
    baseline = run_baseline(config, problem)
    if baseline is not None:
        summary["euler_maruyama"] = baseline
    maps = [potential.state_dict() for potential in result["flow"].potentials]
    atomic_write(out / "checkpoints" / "maps.pt", lambda temporary: torch.save(maps, temporary))
    write_text(out / "steps.jsonl", "".join(json.dumps(line) + "\n" for line in result["losses"]))
    write_json(out / "metrics.json", summary)
    plot_marginals(
        out / "plots" / "marginals.png",
        result["snapshots"],
        problem.reference_marginal,
        f"{config.preset}, D = {config.dim}: coordinate 0",
    )
    return summary
