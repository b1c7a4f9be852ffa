"""Run configuration of ``molgen jko``: YAML mapped onto dataclasses, strictly checked."""

from __future__ import annotations

import dataclasses
import math
import sys
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from forcefields.devices import resolve_device
from forcefields.errors import ConfigError
from molgen.yaml_numbers import safe_load

from .mixture_tables import MIXTURE_TABLE, PUBLISHED_MIXTURE_KEYS

__all__ = [
    "JKOConfigError",
    "NetworkConfig",
    "LogDetConfig",
    "FlowConfig",
    "ProblemConfig",
    "BaselineConfig",
    "JKOConfig",
    "PRESETS",
    "config_from_dict",
    "load_config",
    "read_config_file",
    "config_to_dict",
]

PRESETS = ("ou", "mixture", "porous", "aggregation", "double_well", "butane")


class JKOConfigError(ValueError):
    """A configuration value has an unknown key, the wrong type or an invalid range."""


@dataclass
class NetworkConfig:
    """Input-convex network of each JKO step.

    Attributes:
        kind: ``ficnn`` or ``dense`` (DenseICNN).
        hidden: Hidden widths.
        rank: Rank of the DenseICNN quadratic blocks.
        activation: ``softplus`` or ``celu``.
        strong_convexity: Coefficient :math:`s > 0` of :math:`\\frac s2\\|x\\|^2`; it keeps
            every map invertible, which the densities along the flow need.
        quadratic_residual: Add a learnable quadratic and start at the exact identity map.
    """

    kind: str = "ficnn"
    hidden: list[int] = field(default_factory=lambda: [64, 64])
    rank: int = 1
    activation: str = "softplus"
    strong_convexity: float = 1e-6
    quadratic_residual: bool = True


@dataclass
class LogDetConfig:
    """Internal-energy backend used in training.

    Attributes:
        backend: ``exact`` (dense Hessian and ``slogdet``), ``stochastic`` (Lanczos value,
            Hutchinson-CG gradient) or ``variational`` (entropy only: the KL dual of the
            variational WGF with a critic network, no Hessian).
        probes, lanczos_steps, cg_iterations, cg_tolerance: ``stochastic`` settings.
        dual_hidden, dual_steps, dual_learning_rate: ``variational`` critic widths, ascent
            steps per update and Adam learning rate.
    """

    backend: str = "exact"
    probes: int = 1
    lanczos_steps: int = 10
    cg_iterations: int = 20
    cg_tolerance: float = 1e-5
    dual_hidden: list[int] = field(default_factory=lambda: [64, 64])
    dual_steps: int = 3
    dual_learning_rate: float = 1e-3


@dataclass
class FlowConfig:
    """JKO scheme: step size :math:`\\tau`, number of steps and per-step optimisation.

    ``batch_size`` 0 uses the whole cloud in every update; ``anneal`` decays the learning
    rate to zero within each step. ``affine_lr_scale`` multiplies the learning rate of the
    quadratic residual's affine part; ``restarts`` is the most fits per step: a fit whose JKO
    objective on the whole cloud is not below both its starting map's and the identity's (by
    more than ``restart_tolerance``, in the functional's units) is redone, and the lowest kept
    (not with the ``variational`` backend, whose critic is trained by every evaluation).
    ``late_learning_rate`` (0: off) replaces ``learning_rate`` from step ``late_from_step``
    (counted from 1, at most ``steps``) on, the two-stage schedule of the large-scale WGF
    mixture runs.
    """

    step_size: float = 0.05
    steps: int = 18
    iterations: int = 200
    learning_rate: float = 5e-3
    batch_size: int = 1024
    cloud_size: int = 8192
    mode: str = "fixed"
    warm_start: bool = True
    anneal: bool = True
    affine_lr_scale: float = 1.0
    restarts: int = 1
    restart_tolerance: float = 0.0
    late_learning_rate: float = 0.0
    late_from_step: int = 0

    def learning_rate_at(self, step: int) -> float:
        """Adam learning rate of JKO step ``step`` (counted from 1)."""
        if self.late_learning_rate and step >= self.late_from_step:
            return self.late_learning_rate
        return self.learning_rate


@dataclass
class ProblemConfig:
    """Preset parameters: each preset reads the ones :data:`PROBLEM_FIELDS` names, and a
    field set for a preset that does not read it is refused.

    Attributes:
        temperature: :math:`\\beta^{-1}` (OU, double well, butane).
        components: Mixture components (0: the large-scale WGF table for ``dim``).
        width: Side :math:`l` of the cube holding the mixture means (0: table value).
        mixture_key: Mixture means drawn as the large-scale WGF experiments drew theirs,
            from this random key and ``seed`` (``published``: their key for ``dim``, so
            seeds 0-4 are their five mixtures); "" draws them from ``seed`` alone.
        initial_std: Standard deviation of the Gaussian start (mixture, double well; nm
            around the minimised structure for butane).
        exponent: Porous-medium exponent :math:`m > 1`.
        time_offset: Barenblatt start time :math:`t_0`.
        gaussian_std: Standard deviation of the double well's Gaussian coordinates.
        reference: Butane: folder of a ``molgen reference`` run (``stats.json``) whose
            dihedral populations are reported next to the flow's ("": none).
    """

    temperature: float = 1.0
    components: int = 0
    width: float = 0.0
    mixture_key: str = ""
    initial_std: float = 4.0
    exponent: float = 2.0
    time_offset: float = 0.05
    gaussian_std: float = 1.0
    reference: str = ""


@dataclass
class BaselineConfig:
    """Euler-Maruyama particle baseline run next to JKO (0 particles: none); only for the
    presets with a drift, :data:`BASELINE_PRESETS`."""

    particles: int = 0
    time_step: float = 1e-3


@dataclass
class JKOConfig:
    """A whole ``molgen jko`` run (``dtype``: floating-point precision of all tensors;
    ``device``: where they live, ``cpu`` or ``cuda[:i]``; ``evaluation_samples``: fresh
    samples per evaluation, at most :data:`molgen.jko.presets.AGGREGATION_PAIRED_SAMPLES`
    of them for the aggregation preset, whose interaction energy pairs every two)."""

    preset: str = "ou"
    dim: int = 2
    seed: int = 0
    dtype: str = "float32"
    device: str = "cpu"
    evaluation_samples: int = 10000
    evaluate_every: int = 0
    network: NetworkConfig = field(default_factory=NetworkConfig)
    logdet: LogDetConfig = field(default_factory=LogDetConfig)
    flow: FlowConfig = field(default_factory=FlowConfig)
    problem: ProblemConfig = field(default_factory=ProblemConfig)
    baseline: BaselineConfig = field(default_factory=BaselineConfig)


CHOICES = {
    "preset": PRESETS,
    "dtype": ("float32", "float64"),
    "network.kind": ("ficnn", "dense"),
    "network.activation": ("softplus", "celu"),
    "logdet.backend": ("exact", "stochastic", "variational"),
    "flow.mode": ("fixed", "resample"),
}
POSITIVE = {
    "dim",
    "evaluation_samples",
    "network.rank",
    "network.strong_convexity",
    "logdet.probes",
    "logdet.lanczos_steps",
    "logdet.cg_iterations",
    "logdet.dual_steps",
    "logdet.dual_learning_rate",
    "flow.step_size",
    "flow.steps",
    "flow.iterations",
    "flow.learning_rate",
    "flow.cloud_size",
    "flow.affine_lr_scale",
    "flow.restarts",
    "problem.temperature",
    "problem.initial_std",
    "problem.time_offset",
    "problem.gaussian_std",
    "baseline.time_step",
}


def _check_value(name: str, kind: Any, value: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin is list:
        if not isinstance(value, list):
            raise JKOConfigError(f"{name}: expected a list, got {type(value).__name__}")
        (item_kind,) = typing.get_args(kind)
        return [_check_value(f"{name}[{i}]", item_kind, item) for i, item in enumerate(value)]
    if kind is bool:
        if not isinstance(value, bool):
            raise JKOConfigError(f"{name}: expected true or false, got {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise JKOConfigError(f"{name}: expected an integer, got {value!r}")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise JKOConfigError(f"{name}: expected a number, got {value!r}")
        if isinstance(value, int) and abs(value) > sys.float_info.max:
            raise JKOConfigError(f"{name}: must be finite, got an integer beyond float range")
        if not math.isfinite(value):
            raise JKOConfigError(f"{name}: must be finite, got {value!r}")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise JKOConfigError(f"{name}: expected a string, got {value!r}")
        return value
    raise JKOConfigError(f"{name}: unsupported type {kind}")


def _from_dict(cls: type, data: Any, prefix: str) -> Any:
    if not isinstance(data, dict):
        where = prefix.rstrip(".") or "config"
        raise JKOConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    values = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if key not in known:
            raise JKOConfigError(f"{name}: unknown key (known: {', '.join(sorted(known))})")
        kind = hints[key]
        if dataclasses.is_dataclass(kind):
            values[key] = _from_dict(kind, value, f"{name}.")
            continue
        values[key] = _check_value(name, kind, value)
        if name in CHOICES and values[key] not in CHOICES[name]:
            raise JKOConfigError(
                f"{name}: must be one of {', '.join(CHOICES[name])}, got {value!r}"
            )
        numbers = [values[key]] if not isinstance(values[key], list) else values[key]
        if any(v < 0 for v in numbers if isinstance(v, int | float)):
            raise JKOConfigError(f"{name}: must not be negative, got {value!r}")
        if name in POSITIVE and values[key] == 0:
            raise JKOConfigError(f"{name}: must be positive, got {value!r}")
    return cls(**values)


PROBLEM_FIELDS = {
    "ou": ("temperature",),
    "mixture": ("components", "width", "mixture_key", "initial_std"),
    "porous": ("exponent", "time_offset"),
    "aggregation": (),
    "double_well": ("temperature", "initial_std", "gaussian_std"),
    "butane": ("temperature", "initial_std", "reference"),
}
"""The ``problem`` fields each preset reads; setting any other away from its default is
refused (the mixture's stationary law :math:`\\propto p^{1/T}` has no closed-form
density for its SymKL, so the mixture preset runs at temperature 1 only)."""


def _check_problem_fields(config: JKOConfig) -> None:
    """Refuses a ``problem`` field set for a preset that does not read it."""
    used = PROBLEM_FIELDS[config.preset]
    for item in fields(ProblemConfig):
        value = getattr(config.problem, item.name)
        if item.name not in used and value != item.default:
            reads = ", ".join(f"problem.{name}" for name in used) or "no problem fields"
            raise JKOConfigError(
                f"problem.{item.name}: the {config.preset} preset does not use it, got "
                f"{value!r} (it reads {reads})"
            )


def _check_logdet(config: JKOConfig) -> None:
    """Refuses ``logdet`` settings a preset cannot use: any for the aggregation preset
    (no internal energy), an estimated backend for the porous medium (its energy is
    nonlinear in the log-determinant, so the estimate's noise would bias it)."""
    logdet, default = config.logdet, LogDetConfig()
    if config.preset == "aggregation":
        for item in fields(LogDetConfig):
            value = getattr(logdet, item.name)
            if value != getattr(default, item.name):
                raise JKOConfigError(
                    f"logdet.{item.name}: the aggregation preset has no internal energy and "
                    f"does not use it, got {value!r}"
                )
    if config.preset == "porous" and logdet.backend != "exact":
        raise JKOConfigError(
            f"logdet.backend: the porous medium needs the exact backend ({logdet.backend} "
            "estimates would bias its energy, which is nonlinear in the log-determinant)"
        )


def _check_sample_counts(config: JKOConfig) -> None:
    """Refuses sample counts too small for the OU preset's fitted covariance or for the
    kernel density estimate of the OU and mixture baselines (both need ``dim + 1``), and
    fewer than two for the aggregation preset's interaction energy."""
    minimum = config.dim + 1
    if config.preset == "aggregation" and config.evaluation_samples < 2:
        raise JKOConfigError(
            f"evaluation_samples: the aggregation preset's interaction energy pairs samples, "
            f"so it needs at least 2, got {config.evaluation_samples}"
        )
    if config.preset == "ou" and config.evaluation_samples < minimum:
        raise JKOConfigError(
            f"evaluation_samples: needs at least dim + 1 = {minimum} samples (a fitted "
            f"covariance), got {config.evaluation_samples}"
        )
    if config.preset in ("ou", "mixture") and 0 < config.baseline.particles < minimum:
        raise JKOConfigError(
            f"baseline.particles: needs 0 (no baseline) or at least dim + 1 = {minimum} "
            f"particles (their kernel density estimate), got {config.baseline.particles}"
        )


BASELINE_PRESETS = ("ou", "mixture", "double_well", "butane")
"""Presets with a drift :math:`-\\nabla V` for the Euler-Maruyama baseline."""


def _check_baseline(config: JKOConfig) -> None:
    """Refuses a baseline for a preset without a drift (nonlinear diffusion, aggregation)."""
    if config.baseline.particles and config.preset not in BASELINE_PRESETS:
        raise JKOConfigError(
            f"baseline.particles: the {config.preset} preset has no Euler-Maruyama baseline "
            f"(only {', '.join(BASELINE_PRESETS)}), got {config.baseline.particles}"
        )


def _check_mixture_key(config: JKOConfig) -> None:
    """Refuses ``problem.mixture_key: published`` where the published experiments have no
    mixture: another dimension, or other components or width than theirs."""
    problem = config.problem
    if problem.mixture_key != "published":
        return
    if config.dim not in PUBLISHED_MIXTURE_KEYS:
        raise JKOConfigError(
            f"problem.mixture_key: the published mixtures exist for dim "
            f"{sorted(PUBLISHED_MIXTURE_KEYS)}, not {config.dim}"
        )
    components, width = MIXTURE_TABLE[config.dim]
    if problem.components not in (0, components) or problem.width not in (0, width):
        raise JKOConfigError(
            f"problem.components, problem.width: the published mixtures in dim {config.dim} "
            f"have {components} components in a cube of side {width:g} (leave both at 0)"
        )


def check_config_fields(data: Any) -> None:
    """Refuses unknown keys and values of the wrong type or sign in ``data``, raising
    :class:`JKOConfigError`; the checks that relate fields to one another (preset and
    dimension, backend and batch size, ...) are :func:`config_from_dict`'s, on the final
    mapping."""
    _from_dict(JKOConfig, data, "")


def config_from_dict(data: dict[str, Any]) -> JKOConfig:
    """Builds a :class:`JKOConfig` from a nested mapping, raising :class:`JKOConfigError`
    (every number must be finite and non-negative)."""
    config = _from_dict(JKOConfig, data, "")
    if config.seed >= 2**32:
        raise JKOConfigError(f"seed: must be below 2**32 (numpy's seed range), got {config.seed}")
    _check_problem_fields(config)
    _check_mixture_key(config)
    _check_sample_counts(config)
    _check_logdet(config)
    _check_baseline(config)
    try:
        resolve_device(config.device)
    except ConfigError as error:
        raise JKOConfigError(str(error)) from error
    for name, widths in (
        ("network.hidden", config.network.hidden),
        ("logdet.dual_hidden", config.logdet.dual_hidden),
    ):
        if not widths or 0 in widths:
            raise JKOConfigError(f"{name}: needs at least one layer of positive width")
    if config.flow.batch_size == 1 or config.flow.cloud_size < 2:
        raise JKOConfigError(
            f"flow.batch_size, flow.cloud_size: every update needs at least 2 particles (an "
            f"interaction energy pairs them, the variational entropy fits their covariance); "
            f"got batch_size {config.flow.batch_size} (0: the whole cloud) and cloud_size "
            f"{config.flow.cloud_size}"
        )
    if config.flow.affine_lr_scale != 1.0 and not config.network.quadratic_residual:
        raise JKOConfigError(
            "flow.affine_lr_scale: scales the quadratic residual's affine part, which this "
            "network does not have (set network.quadratic_residual: true, or leave it at 1)"
        )
    if config.flow.restart_tolerance > 0 and config.flow.restarts == 1:
        raise JKOConfigError(
            "flow.restart_tolerance: only used when refitting (set flow.restarts above 1)"
        )
    if bool(config.flow.late_learning_rate) != bool(config.flow.late_from_step):
        raise JKOConfigError(
            "flow.late_learning_rate, flow.late_from_step: set both (a second learning rate "
            "and the step it starts at) or neither"
        )
    if config.flow.late_from_step > config.flow.steps:
        raise JKOConfigError(
            f"flow.late_from_step: {config.flow.late_from_step} is after the last step "
            f"(flow.steps: {config.flow.steps}), so flow.late_learning_rate would never be used"
        )
    if config.preset == "porous" and config.problem.exponent <= 1:
        raise JKOConfigError(
            f"problem.exponent: the porous-medium exponent m must be above 1, "
            f"got {config.problem.exponent!r}"
        )
    if config.flow.restarts > 1 and config.logdet.backend == "variational":
        raise JKOConfigError(
            "flow.restarts: more than 1 needs the exact or stochastic logdet backend "
            "(the variational critic is trained by every objective evaluation)"
        )
    return config


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML file, raising :class:`JKOConfigError` that names ``path`` once
    when the file cannot be read or parsed, or holds no settings (empty, or comments only:
    a run of every default is asked for with ``--preset`` instead)."""
    try:
        data = safe_load(Path(path).read_text())
    except OSError as error:
        raise JKOConfigError(f"{path}: cannot read YAML ({error.strerror or error})") from error
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise JKOConfigError(f"{path}: cannot read YAML ({error})") from error
    if data is None:
        raise JKOConfigError(
            f"{path}: holds no settings (expected a mapping; for a preset's defaults give "
            "--preset without a config file)"
        )
    return data


def load_config(path: str | Path) -> JKOConfig:
    """Reads a YAML file into a :class:`JKOConfig`."""
    return config_from_dict(read_config_file(path))


def config_to_dict(config: JKOConfig) -> dict[str, Any]:
    """The configuration as plain data (for ``config.yaml`` in the run directory)."""
    return dataclasses.asdict(config)
