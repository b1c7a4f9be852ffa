"""Configuration of ``molgen train``: YAML mapped onto dataclasses and checked.

A config names a system, a flow and a list of phases (typically a data pre-training and
a data-free fine-tuning). Every CLI flag of ``molgen train`` has a key here
(``--seed`` -> ``seed``, ``--device`` -> ``device``, ``--out`` -> ``out``, ``--init`` ->
``init``). See ``configs/double_well/`` for examples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from forcefields.errors import ConfigError, InputFileError
from molgen.losses import DATA_DEPENDENT, LOSSES
from molgen.training.config_loading import from_mapping, to_mapping
from molgen.yaml_numbers import safe_load

__all__ = [
    "CheckpointConfig",
    "DataConfig",
    "FlowConfig",
    "check_flow_config",
    "MetricsConfig",
    "PhaseConfig",
    "ScheduleConfig",
    "TrainConfig",
    "config_from_mapping",
    "config_to_mapping",
    "load_config",
]

FLOW_PRESETS = ("double_well", "molecule")
SCHEDULES = ("constant", "cosine", "exponential")
DATA_SOURCES = ("exact", "file", "reference")
DTYPES = ("float32", "float64")
COORDINATES = ("cartesian", "internal")


@dataclass
class FlowConfig:
    """Generator architecture.

    Attributes:
        preset: ``double_well`` (8 x 4 blocks, width 64) or ``molecule`` (24 x 4, width 256).
        width: hidden width of the coupling conditioners (``null``: the preset's).
        repeats: number of 4-block repeats (``null``: the preset's).
        standardize: end the flow in a fixed standardisation layer fitted on the data of
            the first phase that has data (thesis §5.4).
        hydrogens: molecules only: ``null`` (one flow over all atoms), ``deterministic``
            (flow over heavy atoms, feed-forward hydrogen placement, thesis §3.3) or
            ``flow`` (conditional hydrogen flow, exact density over all atoms, §9.2).
            Train the hydrogen stage with the ``hydrogen_kl`` loss (generated heavy atoms)
            or, deterministic stage only, ``hydrogen_energy`` (heavy atoms of data).
        hydrogen_width, hydrogen_repeats: size of the hydrogen stage (hidden width; the
            conditional flow's 4-block repeats).
        coordinates: molecules with ``hydrogens: flow`` only: ``cartesian`` (coupling
            flows on Cartesian coordinates) or ``internal`` (spline flows on bonds,
            angles and torsions, the pose drawn exactly from the ``rigid`` alignment
            penalty; :mod:`molgen.generators.internal`). ``repeats`` then counts
            [spline, spline, permutation] blocks.
        align: ``internal`` only: the ``rigid`` alignment options whose pose distribution
            the generator samples (``null``: those of the first phase with ``align``).
    """

    preset: str = "double_well"
    width: int | None = None
    repeats: int | None = None
    standardize: bool = False
    hydrogens: str | None = None
    hydrogen_width: int = 128
    hydrogen_repeats: int = 4
    coordinates: str = "cartesian"
    align: dict[str, Any] | None = None


@dataclass
class ScheduleConfig:
    """Learning-rate schedule within a phase, as a factor on ``lr``.

    Attributes:
        kind: ``constant``, ``cosine`` (to ``final_factor`` at the last step) or
            ``exponential`` (``gamma`` per step).
        warmup_steps: linear ramp from 0 over this many steps first.
        final_factor: cosine end value.
        gamma: exponential decay per step.
    """

    kind: str = "constant"
    warmup_steps: int = 0
    final_factor: float = 0.0
    gamma: float = 1.0


@dataclass
class DataConfig:
    """Where data-dependent losses (``kl_z_dd``, ``sinkhorn_dd``, ``hydrogen_energy``) get
    their points.

    Attributes:
        source: ``exact`` (exact samples of a double well at the phase temperature),
            ``file`` (a ``.npz`` array or an mdtraj-readable trajectory) or ``reference``
            (the equilibrated frames of a ``molgen reference`` folder, superposed when the
            phase's ``align`` is ``rigid``;
            :func:`molgen.training.reference_data.equilibrated_reference_frames`).
        size: number of exact samples drawn once per phase (mini-batches are drawn from them).
        path: data file for ``file``, folder for ``reference``; relative paths are relative
            to the config file.
        key: array name inside a ``.npz`` (points ``(N, D)`` or coordinates ``(N, n, 3)`` nm).
        topology: topology file for trajectories that need one (default: the system's pdb).
        mode_weights: ``{mode name: k}``: every data point in that mode counts ``k`` times
            (a positive integer), so a rare mode the data under-represents for training is
            seen more often; unnamed modes count once. Importance weights of the trained
            generator's samples correct the populations it then over-represents.
        resample_pose: molecules: redraw each frame's rigid-body pose from the density of
            the phase's ``rigid`` alignment penalty
            (:func:`systems.reference.rigid_resampling.resample_rigid`), so the frames are
            exact samples of the aligned target ``exp(-beta (U + U_align))`` that a
            Cartesian generator is trained towards. Needs the phase's ``align`` in
            ``rigid`` mode.
    """

    source: str = "exact"
    size: int = 100_000
    path: str | None = None
    key: str = "x"
    topology: str | None = None
    mode_weights: dict[str, int] = field(default_factory=dict)
    resample_pose: bool = False


@dataclass
class PhaseConfig:
    """One training phase: its own Adam optimiser, schedule, temperature and losses.

    Attributes:
        name: unique name (used in metrics and checkpoint names).
        steps: optimisation steps.
        batch_size: points per step, summed over processes.
        lr: Adam learning rate.
        schedule: learning-rate schedule.
        temperature_factor: target density ``exp(-beta U / factor)``.
        losses: mixture ``{loss name: weight}``; weight 0 logs a loss without training on it.
        loss_options: ``{loss name: {option: value}}`` (see ``molgen.training.loss_mixture``).
        data: data source for data-dependent losses.
        grad_clip: clip the gradient norm to this value (``null``: no clipping).
        clip: per-term energy clipping for molecules, passed to ``System.energy``.
        align: alignment-penalty options for molecules, passed to ``System.energy``.
    """

    name: str
    steps: int
    losses: dict[str, float]
    batch_size: int = 256
    lr: float = 1e-4
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    temperature_factor: float = 1.0
    loss_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    data: DataConfig | None = None
    grad_clip: float | None = None
    clip: str | dict[str, float | None] | None = None
    align: dict[str, Any] | None = None


@dataclass
class MetricsConfig:
    """What goes to ``metrics.jsonl``.

    Attributes:
        every: write a line every this many steps (and at the end of each phase).
        samples: fresh generated points per line for energies, mode fractions and ESS
            (0: losses only).
    """

    every: int = 10
    samples: int = 1024


@dataclass
class CheckpointConfig:
    """Checkpoint schedule.

    Attributes:
        every: save every this many steps (and at the end of each phase).
        keep: number of periodic checkpoints kept (phase-end ones are always kept).
    """

    every: int = 500
    keep: int = 3


@dataclass
class TrainConfig:
    """A whole training run.

    Attributes:
        system: a name for ``systems.load``.
        phases: the phases, in order.
        flow: generator architecture.
        seed: seed of every random draw (``--seed``).
        device: ``cpu`` or ``cuda[:i]`` (``--device``).
        dtype: parameter and sample dtype, ``float32`` or ``float64``.
        energy_dtype: dtype the target energy is evaluated in.
        metrics: metrics schedule.
        checkpoints: checkpoint schedule.
        init: checkpoint whose model weights start the run (``--init``).
        out: run directory (``--out``).
    """

    system: str
    phases: list[PhaseConfig]
    flow: FlowConfig = field(default_factory=FlowConfig)
    seed: int = 0
    device: str = "cpu"
    dtype: str = "float32"
    energy_dtype: str = "float64"
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    checkpoints: CheckpointConfig = field(default_factory=CheckpointConfig)
    init: str | None = None
    out: str | None = None


def config_from_mapping(data: Any, base: Path | None = None) -> TrainConfig:
    """Parse and check a config mapping; relative file paths are resolved against ``base``."""
    config = from_mapping(TrainConfig, data)
    _check(config)
    if base is not None:
        _resolve_paths(config, Path(base))
    return config


def config_to_mapping(config: TrainConfig) -> dict[str, Any]:
    """Plain data of ``config``, loadable again by :func:`config_from_mapping`."""
    return to_mapping(config)


def load_config(path: str | Path) -> TrainConfig:
    """Read a YAML config file; raises :class:`InputFileError` or :class:`ConfigError`."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: config file not found")
    try:
        data = safe_load(path.read_text())
    except UnicodeDecodeError as error:
        raise InputFileError(f"{path}: not a text file ({error.reason})") from error
    except yaml.YAMLError as error:
        raise InputFileError(f"{path}: not valid YAML ({' '.join(str(error).split())})") from error
    try:
        return config_from_mapping(data, base=path.parent)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from error


def _resolve_paths(config: TrainConfig, base: Path) -> None:
    def resolve(value: str | None) -> str | None:
        if value is None or Path(value).is_absolute():
            return value
        return str((base / value).resolve())

    config.init = resolve(config.init)
    for phase in config.phases:
        if phase.data is not None:
            phase.data.path = resolve(phase.data.path)
            phase.data.topology = resolve(phase.data.topology)


def _require(condition: bool, path: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{path}: {message}")


def _check(config: TrainConfig) -> None:
    _require(config.dtype in DTYPES, "dtype", f"must be one of {', '.join(DTYPES)}")
    _require(config.energy_dtype in DTYPES, "energy_dtype", f"must be one of {', '.join(DTYPES)}")
    _require(
        config.device == "cpu" or config.device.startswith("cuda"),
        "device",
        "must be cpu or cuda[:index]",
    )
    _require(config.seed >= 0, "seed", "must be non-negative")
    check_flow_config(config.flow)
    if config.flow.coordinates == "internal" and config.flow.align is None:
        config.flow.align = next((p.align for p in config.phases if p.align is not None), None)
        _require(
            config.flow.align is not None,
            "flow.align",
            "internal coordinates need the rigid alignment options (set flow.align or a "
            "phase's align)",
        )
    if config.flow.align is not None:
        _require(config.flow.align.get("mode") == "rigid", "flow.align.mode", "must be 'rigid'")
    _require(config.metrics.every > 0, "metrics.every", "must be positive")
    _require(config.metrics.samples >= 0, "metrics.samples", "must be non-negative")
    _require(config.checkpoints.every > 0, "checkpoints.every", "must be positive")
    _require(config.checkpoints.keep > 0, "checkpoints.keep", "must be positive")
    _require(len(config.phases) > 0, "phases", "at least one phase is needed")
    names = set()
    for index, phase in enumerate(config.phases):
        path = f"phases[{index}]"
        _require(
            "hydrogen_energy" not in phase.losses or config.flow.hydrogens == "deterministic",
            f"{path}.losses.hydrogen_energy",
            f"needs flow.hydrogens: deterministic, got {config.flow.hydrogens or 'null'}",
        )
        _require(
            "hydrogen_kl" not in phase.losses or config.flow.hydrogens is not None,
            f"{path}.losses.hydrogen_kl",
            "needs a hydrogen stage (flow.hydrogens: deterministic or flow), got null",
        )
        _require(phase.name not in names, f"{path}.name", f"duplicate phase name {phase.name!r}")
        _require(
            phase.name.replace("_", "").replace("-", "").isalnum(),
            f"{path}.name",
            "use letters, digits, '_' and '-' only",
        )
        names.add(phase.name)
        _check_phase(phase, path)


def check_flow_config(flow: FlowConfig, path: str = "flow") -> None:
    """Raises :class:`ConfigError` naming the field (``path.width``, ...) of a value
    ``flow`` cannot be built with."""
    _require(
        flow.preset in FLOW_PRESETS, f"{path}.preset", f"must be one of {', '.join(FLOW_PRESETS)}"
    )
    _require(flow.width is None or flow.width > 0, f"{path}.width", "must be positive")
    _require(flow.repeats is None or flow.repeats > 0, f"{path}.repeats", "must be positive")
    _require(
        flow.hydrogens in (None, "deterministic", "flow"),
        f"{path}.hydrogens",
        "must be null, deterministic or flow",
    )
    _require(flow.hydrogen_width > 0, f"{path}.hydrogen_width", "must be positive")
    _require(flow.hydrogen_repeats > 0, f"{path}.hydrogen_repeats", "must be positive")
    _require(
        flow.coordinates in COORDINATES,
        f"{path}.coordinates",
        f"must be one of {', '.join(COORDINATES)}",
    )
    _require(
        flow.coordinates == "cartesian" or flow.hydrogens == "flow",
        f"{path}.coordinates",
        "internal coordinates need hydrogens: flow",
    )


def _positive_finite(value: float) -> bool:
    return math.isfinite(value) and value > 0


def _check_phase(phase: PhaseConfig, path: str) -> None:
    _require(phase.steps > 0, f"{path}.steps", f"must be positive, got {phase.steps}")
    _require(
        phase.batch_size > 0, f"{path}.batch_size", f"must be positive, got {phase.batch_size}"
    )
    _require(_positive_finite(phase.lr), f"{path}.lr", f"must be positive, got {phase.lr}")
    _require(
        _positive_finite(phase.temperature_factor),
        f"{path}.temperature_factor",
        f"must be positive, got {phase.temperature_factor}",
    )
    _require(
        phase.grad_clip is None or _positive_finite(phase.grad_clip),
        f"{path}.grad_clip",
        "must be positive",
    )
    _check_schedule(phase.schedule, f"{path}.schedule")
    _require(
        phase.schedule.warmup_steps <= phase.steps,
        f"{path}.schedule.warmup_steps",
        f"must not exceed the phase's {phase.steps} steps, got {phase.schedule.warmup_steps}",
    )
    _require(len(phase.losses) > 0, f"{path}.losses", "at least one loss is needed")
    for name, weight in phase.losses.items():
        _require(
            name in LOSSES, f"{path}.losses.{name}", f"unknown loss (known: {', '.join(LOSSES)})"
        )
        _require(
            math.isfinite(weight) and weight >= 0,
            f"{path}.losses.{name}",
            f"weight must be finite and non-negative, got {weight}",
        )
    _require(
        any(weight > 0 for weight in phase.losses.values()),
        f"{path}.losses",
        "at least one weight must be positive",
    )
    for name in phase.loss_options:
        _require(
            name in phase.losses, f"{path}.loss_options.{name}", "options for a loss not in losses"
        )
    if DATA_DEPENDENT & set(phase.losses):
        _require(phase.data is not None, f"{path}.data", "data-dependent losses need a data source")
    if phase.data is not None:
        _check_data(phase.data, f"{path}.data")
        _require(
            not phase.data.resample_pose
            or (phase.align is not None and phase.align.get("mode") == "rigid"),
            f"{path}.data.resample_pose",
            "needs the phase's align in rigid mode",
        )


def _check_schedule(schedule: ScheduleConfig, path: str) -> None:
    _require(schedule.kind in SCHEDULES, f"{path}.kind", f"must be one of {', '.join(SCHEDULES)}")
    _require(schedule.warmup_steps >= 0, f"{path}.warmup_steps", "must be non-negative")
    _require(0 <= schedule.final_factor <= 1, f"{path}.final_factor", "must lie in [0, 1]")
    _require(0 < schedule.gamma <= 1, f"{path}.gamma", "must lie in (0, 1]")


def _check_data(data: DataConfig, path: str) -> None:
    _require(
        data.source in DATA_SOURCES, f"{path}.source", f"must be one of {', '.join(DATA_SOURCES)}"
    )
    _require(data.size > 0, f"{path}.size", f"must be positive, got {data.size}")
    _require(
        data.source == "exact" or data.path is not None,
        f"{path}.path",
        f"required for source '{data.source}'",
    )
    for mode, count in data.mode_weights.items():
        _require(
            isinstance(count, int) and not isinstance(count, bool) and count >= 1,
            f"{path}.mode_weights.{mode}",
            f"must be a positive integer, got {count!r}",
        )
