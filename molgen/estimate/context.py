"""Samples together with the system they belong to: coordinates, mode labels and ``β``.

Joins a :class:`~molgen.estimate.samples.SampleSet` with ``systems.load``: the system name
comes from the caller or from the sidecar's ``system`` entry; coordinates from the sidecar's
``x`` (toys) or the trajectory beside it (molecules, read by mdtraj; ``.dcd``/``.xtc`` use
the ``.pdb`` beside them, else the system's, as topology); mode labels from the sidecar's
``modes`` or, failing that, from the system's mode function applied to the coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from forcefields.errors import ConfigError, InputFileError, MolgenError, ShapeMismatchError
from molgen.estimate.samples import SampleSet, load_samples, system_temperature
from systems.trajectories import read_frames

if TYPE_CHECKING:
    from systems.registry import System

__all__ = ["SampleContext", "prepare_samples"]


@dataclass(frozen=True)
class SampleContext:
    """Samples, their system and what is derived from both.

    Attributes:
        samples: the sidecar's arrays.
        system: ``systems.System`` (``None`` when no name is known).
        coordinates: ``(n, N, 3)`` nm or ``(n, D)`` toy points, or ``None``.
        labels: integer mode labels ``(n,)``, or ``None``.
    """

    samples: SampleSet
    system: object | None
    coordinates: np.ndarray | None
    labels: np.ndarray | None

    @property
    def beta(self) -> float:
        """``β`` of the system (mol/kJ; toys: inverse temperature); 1 without a system."""
        return 1.0 if self.system is None else float(self.system.beta)

    def correlation_series(self, indicators: np.ndarray | None) -> np.ndarray | None:
        """What a time series' ESS counts the correlation of: the state ``indicators``
        ``(k, n)``, else the samples' energy (``u_b``, else ``energy``) ``(n,)``, else
        ``None``. Without a series, equal weights would count every frame as independent."""
        if indicators is not None:
            return indicators
        if self.samples.u_b is not None:
            return self.samples.u_b
        return self.samples.arrays.get("energy")

    @property
    def energy_unit(self) -> str:
        """``"kJ/mol"`` for molecules, ``"reduced"`` otherwise."""
        return "kJ/mol" if getattr(self.system, "kind", None) == "molecule" else "reduced"

    @property
    def mode_names(self) -> tuple[str, ...]:
        """Names of the mode labels: the system's, else the sidecar's (may be empty)."""
        if self.system is not None and self.system.mode_names:
            return tuple(self.system.mode_names)
        return self.samples.mode_names

    def require_coordinates(self) -> np.ndarray:
        """The coordinates, or an :class:`InputFileError` saying where they were looked for."""
        if self.coordinates is None:
            raise InputFileError(
                f"{self.samples.sidecar}: no coordinates (no 'x' array and no trajectory beside it)"
            )
        return self.coordinates

    def require_labels(self) -> np.ndarray:
        """The mode labels, or a :class:`ConfigError` when neither sidecar nor system has them."""
        if self.labels is None or not self.mode_names:
            raise ConfigError(
                f"{self.samples.sidecar}: no mode labels ('modes' array, or a system with modes)"
            )
        return self.labels


def _check_temperature(samples: SampleSet, name: str, system: System) -> None:
    """Refuse ``samples`` analysed at another temperature than they were drawn at.

    Weighted samples (a generator's) were drawn at the sidecar's ``temperature``, else
    (an older sidecar) at the system's default. Frames with equal weights (MD, parallel
    tempering) are checked against a recorded ``temperature`` only."""
    log_w = samples.log_w
    weighted = not np.all(log_w == log_w[0])
    drawn, origin = samples.temperature, "recorded in the sidecar"
    if drawn is None:
        if not weighted:
            return
        drawn = system_temperature(_load_system(name, None))
        origin = "no 'temperature' in the sidecar: the system's default"
    analysed = system_temperature(system)
    if math.isclose(analysed, drawn, rel_tol=1e-9):
        return
    what = (
        f"importance weights of samples drawn at {drawn:g} ({origin}); they weight "
        f"towards the Boltzmann distribution at {drawn:g}"
        if weighted
        else f"frames sampled at {drawn:g} ({origin}); their populations are those at {drawn:g}"
    )
    raise ConfigError(
        f"--temperature {analysed:g}: {samples.sidecar} holds {what}, so analyse them "
        f"there (--temperature {drawn:g})"
    )


def _check_system(samples: SampleSet, system: System) -> None:
    """Refuse ``samples`` whose sidecar names another system than ``system``.

    The sidecar records the name given to ``systems.load`` (a built-in name, or a
    directory of CHARMM files, whose system is named after the directory)."""
    recorded = samples.system
    if recorded is None or Path(recorded.rstrip("/")).name == system.name:
        return
    raise ConfigError(
        f"--system {system.name}: {samples.sidecar} holds samples of {recorded} "
        f"(its 'system'); analyse them as that system"
    )


def _check_same_coordinates(samples: SampleSet, system: System) -> None:
    """Refuse ``samples`` whose sidecar names a system with other coordinates than
    ``system``'s (other atoms, or another dimension), even where another parameter set of
    the same atoms is allowed."""
    recorded = samples.system
    if recorded is None:
        return
    try:
        other = _load_system(recorded, None)
    except MolgenError:  # a directory of CHARMM files no longer there: nothing to compare
        return
    shape = (other.kind, other.dimension)
    if shape != (system.kind, system.dimension):
        raise ConfigError(
            f"{samples.sidecar} holds samples of {recorded} ({other.dimension} coordinates), "
            f"not of {system.name}'s {system.dimension}"
        )


def _load_system(label: str, temperature: float | None):
    """``systems.load`` of a name that may carry a parameter variant, as a reference's
    ``stats.json`` records it (``butane:lipid``)."""
    import systems

    name, _, variant = label.partition(":")
    return systems.load(name, temperature, variant or "default")


def prepare_samples(
    path: Path | str,
    system_name: str | None = None,
    temperature: float | None = None,
    topology: Path | None = None,
    default_system: str | None = None,
    check_system: bool = True,
) -> SampleContext:
    """Load the samples at ``path`` (sidecar, trajectory, run directory or ``molgen
    reference`` folder) with their system.

    Arguments:
        path: see :func:`molgen.estimate.samples.find_sidecar`.
        system_name: ``systems.load`` name; default the sidecar's ``system`` entry, else
            ``default_system``.
        temperature: K (toys: temperature factor); default the system's. Weighted
            samples (``log_w`` not all equal: a generator's) must be analysed at the
            temperature they were drawn at, the sidecar's ``temperature`` (an older
            sidecar without it: the system's default), since their weights target that
            temperature's Boltzmann distribution. Frames with equal weights (MD,
            parallel tempering) must be analysed at their recorded ``temperature``;
            without one, at whatever temperature is given.
        topology: topology file for a ``.dcd``/``.xtc`` trajectory; default the ``.pdb``
            of the trajectory's stem, else the system's pdb.
        default_system: the system when neither ``system_name`` nor the sidecar names one
            (``name`` or ``name:variant``, as a reference's ``stats.json`` records it).
        check_system: refuse a ``system_name`` other than the system the sidecar names
            (false for samples of other parameters of the same atoms, as BAR's ``C``).

    Raises:
        ConfigError: ``system_name`` another system than the sidecar's ``system`` (with
            ``check_system``), or samples analysed at another temperature than they were
            drawn at.
        ShapeMismatchError: coordinates or labels not matching the number of samples, or
            coordinates of another shape than the system's (atoms of a molecule, points
            of a toy).
    """

    samples = load_samples(path)
    name = system_name or samples.system or default_system
    system = None if name is None else _load_system(name, temperature)
    if system is not None:
        if check_system:
            _check_system(samples, system)
        else:
            _check_same_coordinates(samples, system)
        _check_temperature(samples, name, system)
    coordinates = samples.points
    if coordinates is None and samples.trajectory is not None:
        beside = samples.trajectory.with_suffix(".pdb")
        top = topology or (beside if beside.is_file() else None)
        top = top or (None if system is None else system.pdb)
        coordinates = read_frames(samples.trajectory, top)
        if samples.frame_indices is not None:
            if len(coordinates) <= samples.frame_indices.max():
                raise ShapeMismatchError(
                    f"{samples.trajectory}: {len(coordinates)} frames, but "
                    f"{samples.sidecar} records {samples.frame_indices.max() + 1}"
                )
            coordinates = coordinates[samples.frame_indices]
    if coordinates is not None and len(coordinates) != samples.n:
        raise ShapeMismatchError(
            f"{samples.sidecar}: {samples.n} samples but {len(coordinates)} coordinate frames"
        )
    if coordinates is not None and getattr(system, "kind", None) == "molecule":
        if coordinates.shape[1:] != (system.n_atoms, 3):
            raise ShapeMismatchError(
                f"{samples.sidecar}: frames of {coordinates.shape[1]} atoms, "
                f"system {system.name} has {system.n_atoms}"
            )
    if coordinates is not None and getattr(system, "kind", None) == "toy":
        if coordinates.shape[1:] != (system.dimension,):
            raise ShapeMismatchError(
                f"{samples.sidecar}: samples of shape {coordinates.shape[1:]}, "
                f"system {system.name} has points of dimension {system.dimension}"
            )
    labels = samples.modes
    if labels is None and coordinates is not None and system is not None and system.mode_names:
        labels = np.asarray(system.modes(coordinates), dtype=np.int64).reshape(-1)
    context = SampleContext(samples, system, coordinates, labels)
    _check_labels(context)
    return context


def _check_labels(context: SampleContext) -> None:
    """Raise :class:`ShapeMismatchError` naming the sidecar when a stored mode label is
    not one of the mode names' indices."""
    names, labels = context.mode_names, context.labels
    if labels is None or not names or len(labels) == 0:
        return
    outside = (labels < 0) | (labels >= len(names))
    if outside.any():
        first = int(np.flatnonzero(outside)[0])
        raise ShapeMismatchError(
            f"{context.samples.sidecar}: 'modes' holds labels outside [0, {len(names)}) "
            f"(the modes {list(names)}), e.g. {int(labels[first])} at sample {first}"
        )
