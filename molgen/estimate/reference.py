"""Reading a reference run's folder (``molgen reference``) for comparisons.

Uses ``stats.json`` (required: ``populations`` ``{mode: {"mean", "sem"}}``; optional:
``free_energy_differences`` ``{"a->b": {"mean", "sem"}}`` in ``energy_unit``,
``temperature``) and ``frames.npz`` (optional: per-frame ``reduced_potential``, ``mode``
and observables such as ``dihedral``, ``phi``, ``psi``, ``x0``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from forcefields.errors import InputFileError
from forcefields.json_input import read_json_object
from forcefields.npz_input import read_npz
from forcefields.units import beta_from_temperature

__all__ = ["ReferenceData", "read_reference"]


@dataclass(frozen=True)
class ReferenceData:
    """A reference run's statistics and per-frame arrays.

    Attributes:
        folder: the run's folder.
        populations: ``{mode: (mean, sem)}``.
        free_energies_kT: ``{"a->b": (F_b − F_a, sem)}`` in units of kT (empty if absent).
        frames: per-frame arrays of ``frames.npz`` (empty if the file is absent), every
            recorded frame including those before equilibration.
        stats: the whole ``stats.json``.
    """

    folder: Path
    populations: dict[str, tuple[float, float]]
    free_energies_kT: dict[str, tuple[float, float]]
    frames: dict[str, np.ndarray] = field(default_factory=dict)
    stats: dict = field(default_factory=dict)

    @cached_property
    def equilibrated(self) -> np.ndarray:
        """``(n_frames,)`` bool: the frames the statistics use (after equilibration).

        A frame's ``iteration`` (1-based position in its chain's recorded series) must
        exceed ``stats.json``'s ``equilibration_frames``, the number of recorded frames
        each chain drops; every frame counts when either is absent.
        """
        start = self.stats.get("equilibration_frames")
        if "iteration" in self.frames and start is not None:
            return np.asarray(self.frames["iteration"]).reshape(-1) > start
        lengths = [len(value) for value in self.frames.values() if np.ndim(value)]
        return np.ones(lengths[0] if lengths else 0, dtype=bool)

    @property
    def equilibrated_frames(self) -> dict[str, np.ndarray]:
        """The per-frame arrays of :attr:`frames` restricted to :attr:`equilibrated`."""
        keep = self.equilibrated
        return {
            key: value[keep] if value.ndim and len(value) == len(keep) else value
            for key, value in self.frames.items()
        }

    def recorded_points(self) -> np.ndarray | None:
        """``samples.npz``'s ``x`` ``(n_frames, D)`` (float64): a toy system's points at
        every recorded frame, or ``None`` when the folder has no ``samples.npz``.

        Raises:
            InputFileError: ``samples.npz`` is unreadable, or its ``x`` is missing, not
                points ``(N, D)`` or not one row per frame of ``frames.npz``.
        """
        path = self.folder / "samples.npz"
        if not path.is_file():
            return None
        points = read_npz(path, keys=["x"]).get("x")
        n_frames = len(self.equilibrated)
        if points is None or points.ndim != 2 or len(points) != n_frames:
            raise InputFileError(
                f"{path}: expected an array 'x' of points (N, D) with one row per frame of "
                f"frames.npz ({n_frames})"
            )
        return points.astype(np.float64)


def _pair(path: Path, key: str, name: str, entry) -> tuple[float, float]:
    if not isinstance(entry, dict) or "mean" not in entry or "sem" not in entry:
        raise InputFileError(f"{path}: {key}.{name} needs 'mean' and 'sem'")
    return (
        _float(path, f"{key}.{name}.mean", entry["mean"]),
        _float(path, f"{key}.{name}.sem", entry["sem"]),
    )


def _float(path: Path, key: str, value) -> float:
    """``value`` as a float (``None``: NaN); :class:`InputFileError` naming ``key`` otherwise."""
    if value is None:
        return np.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputFileError(f"{path}: {key} must be a number, got {value!r}")
    return float(value)


def _reduced_scale(path: Path, stats: dict) -> float | None:
    """β (1/energy unit) of the stats' free energies, or ``None`` when unknown."""
    unit, temperature = stats.get("energy_unit"), stats.get("temperature")
    if temperature is None:
        return None
    temperature = _float(path, "temperature", temperature)
    if not (np.isfinite(temperature) and temperature > 0):
        raise InputFileError(f"{path}: temperature must be finite and > 0, got {temperature}")
    if unit == "kJ/mol":
        return beta_from_temperature(temperature)
    if unit == "reduced":
        return 1.0 / temperature
    return None


def read_reference(folder: Path | str) -> ReferenceData:
    """Read ``stats.json`` and, when present, ``frames.npz`` of a reference run.

    Raises:
        InputFileError: no folder or ``stats.json``, unreadable JSON, ``populations``
            missing or malformed, a mean, standard error or temperature that is not a
            number (the message names the key), an ``equilibration_frames`` that is not
            a non-negative integer, or an unreadable ``frames.npz``.
    """
    folder = Path(folder)
    path = folder / "stats.json"
    if not path.is_file():
        raise InputFileError(f"{path}: reference stats not found")
    stats = read_json_object(path)
    if not isinstance(stats.get("populations"), dict):
        raise InputFileError(f"{path}: key 'populations' missing (mode populations expected)")
    populations = {
        name: _pair(path, "populations", name, entry)
        for name, entry in stats["populations"].items()
    }
    free_energies = {}
    scale = _reduced_scale(path, stats)
    if scale is not None and isinstance(stats.get("free_energy_differences"), dict):
        for name, entry in stats["free_energy_differences"].items():
            mean, sem = _pair(path, "free_energy_differences", name, entry)
            free_energies[name] = (scale * mean, scale * sem)
    start = stats.get("equilibration_frames")
    if start is not None and (isinstance(start, bool) or not isinstance(start, int) or start < 0):
        raise InputFileError(
            f"{path}: equilibration_frames must be a non-negative integer, got {start!r}"
        )
    frames = read_npz(folder / "frames.npz") if (folder / "frames.npz").is_file() else {}
    return ReferenceData(folder, populations, free_energies, frames, stats)
