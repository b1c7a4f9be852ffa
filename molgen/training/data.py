"""Training data for data-dependent losses: exact double-well samples or a file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from forcefields.errors import ConfigError, InputFileError, ShapeMismatchError
from forcefields.npz_input import read_npz, read_npz_names
from molgen.training.config import DataConfig
from molgen.training.reference_data import equilibrated_reference_frames
from molgen.training.target import mode_labels
from systems.registry import System
from systems.trajectories import read_frames

__all__ = ["DataPool", "check_data_options", "load_data", "require_data_file"]

TRAJECTORY_SUFFIXES = (".dcd", ".h5", ".pdb", ".xtc", ".trr", ".nc")


class DataPool:
    """A fixed set of points ``(M, D)`` from which mini-batches are drawn with replacement.

    Arguments:
        points: data ``(M, D)`` (flat; nm for molecules).
    """

    def __init__(self, points: torch.Tensor):
        self.points = points

    def batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` rows drawn uniformly with replacement using ``generator`` (CPU)."""
        indices = torch.randint(self.points.shape[0], (n,), generator=generator)
        return self.points[indices.to(self.points.device)]


def load_data(
    system: System,
    data: DataConfig,
    temperature_factor: float,
    seed: int,
    path: str = "data",
    align: Mapping[str, Any] | None = None,
) -> torch.Tensor:
    """The data points ``(M, D)`` (float64, CPU) a phase's data-dependent losses use.

    ``exact``: ``data.size`` exact samples of a double-well system at the phase
    temperature, drawn with a generator seeded by ``seed``. ``file``: a ``.npz`` array
    ``data.key`` or a trajectory mdtraj reads, flattened to ``(M, D)``. ``reference``: the
    equilibrated frames of a ``molgen reference`` folder, superposed into the pose of a
    ``rigid`` penalty ``align``. With
    ``data.mode_weights`` the points of each named mode are repeated that many times;
    with ``data.resample_pose`` each point's pose is then redrawn (seeded by ``seed``)
    from the density of the ``rigid`` alignment penalty ``align`` at the phase
    temperature.
    """
    require_data_file(data, path)
    if data.source == "exact":
        points = _exact_samples(system, data.size, temperature_factor, seed, path)
    elif data.source == "reference":
        frames = equilibrated_reference_frames(data.path, system, align, temperature_factor)
        points = torch.from_numpy(frames.reshape(frames.shape[0], -1))
    else:
        points = _file_points(system, Path(data.path), data.key, data.topology, path)
    if points.ndim != 2 or points.shape[1] != system.dimension:
        raise ShapeMismatchError(
            f"{path}: data of shape {tuple(points.shape)} does not match the system's "
            f"dimension {system.dimension}"
        )
    if points.shape[0] == 0:
        raise InputFileError(f"{path}: data hold no points")
    if not torch.isfinite(points).all():
        raise InputFileError(f"{path}: data contain non-finite values")
    if data.mode_weights:
        points = _repeat_modes(system, points, data.mode_weights, f"{path}.mode_weights")
    if data.resample_pose:
        points = _resample_pose(system, points, align, temperature_factor, seed, path)
    return points


def _repeat_modes(
    system: System, points: torch.Tensor, weights: dict[str, int], path: str
) -> torch.Tensor:
    """``points`` ``(M, D)`` with each point of mode ``m`` present ``weights[m]`` times."""
    names = list(system.mode_names or ())
    unknown = sorted(set(weights) - set(names))
    if unknown:
        known = ", ".join(names) if names else "none"
        raise ConfigError(f"{path}: unknown mode(s) {', '.join(unknown)} (modes: {known})")
    labels = mode_labels(system, points)
    counts = torch.ones(len(names), dtype=torch.int64)
    for name, count in weights.items():
        counts[names.index(name)] = count
    return points.repeat_interleave(counts[labels].to(points.device), dim=0)


def _resample_pose(
    system: System,
    points: torch.Tensor,
    align: Mapping[str, Any] | None,
    temperature_factor: float,
    seed: int,
    path: str,
) -> torch.Tensor:
    """``points`` ``(M, D)`` with poses drawn from the ``rigid`` penalty ``align``'s density."""
    from systems.reference.rigid_resampling import resample_rigid

    if system.kind != "molecule" or align is None or align.get("mode") != "rigid":
        raise ConfigError(f"{path}.resample_pose: needs a molecule and a rigid alignment penalty")
    frames = points.reshape(points.shape[0], system.n_atoms, 3)
    temperature = system.temperature * temperature_factor
    moved = resample_rigid(system, frames, align, seed=seed, temperature=temperature)
    return moved.reshape(points.shape[0], -1)


def _exact_samples(
    system: System, size: int, temperature_factor: float, seed: int, path: str
) -> torch.Tensor:
    well = system.toy_energy
    if system.kind != "toy" or not hasattr(well, "sample"):
        raise ConfigError(f"{path}.source: exact samples exist only for the double wells")
    if temperature_factor != 1.0:
        import systems

        well = systems.load(system.name, temperature=temperature_factor / system.beta).toy_energy
    generator = torch.Generator().manual_seed(seed)
    return well.sample(size, generator).to(torch.float64)


def check_data_options(system: System, data: DataConfig, path: str) -> None:
    """Raise :class:`ConfigError` naming ``path`` when ``system`` cannot take ``data``'s
    options (exact samples of a molecule, unknown modes, poses of a toy); reads no data."""
    if data.source == "exact" and (
        system.kind != "toy" or not hasattr(system.toy_energy, "sample")
    ):
        raise ConfigError(f"{path}.source: exact samples exist only for the double wells")
    names = list(system.mode_names or ()) if system.mode_function is not None else []
    unknown = sorted(set(data.mode_weights) - set(names))
    if unknown:
        known = ", ".join(names) if names else "none"
        raise ConfigError(
            f"{path}.mode_weights: unknown mode(s) {', '.join(unknown)} (modes: {known})"
        )
    if data.resample_pose and system.kind != "molecule":
        raise ConfigError(f"{path}.resample_pose: needs a molecule and a rigid alignment penalty")


def require_data_file(data: DataConfig, path: str) -> None:
    """Raise :class:`InputFileError` naming ``path`` when ``data`` reads a missing file or
    a folder without a reference run's ``stats.json``."""
    if data.source == "file" and not Path(data.path).is_file():
        raise InputFileError(f"{path}.path: {data.path} not found")
    if data.source == "reference" and not (Path(data.path) / "stats.json").is_file():
        raise InputFileError(
            f"{path}.path: {data.path} is not a molgen reference folder (no stats.json)"
        )


def _file_points(
    system: System, file: Path, key: str, topology: str | None, path: str
) -> torch.Tensor:
    if file.suffix == ".npz":
        arrays = read_npz(file, keys=[key])
        if key not in arrays:
            names = ", ".join(read_npz_names(file))
            raise InputFileError(f"{file}: no array {key!r} (has {names})")
        array = arrays[key]
        if array.dtype.kind not in "iuf":
            raise InputFileError(f"{file}: array {key!r} holds {array.dtype}, not real numbers")
        if array.ndim < 2 or array.shape[0] == 0:
            raise ShapeMismatchError(
                f"{file}: array {key!r} of shape {array.shape}: expected points (N, D) or "
                "coordinates (N, n, 3) with N > 0"
            )
        array = array.astype(np.float64)
        return torch.from_numpy(array.reshape(array.shape[0], -1))
    if file.suffix in TRAJECTORY_SUFFIXES:
        top = None if file.suffix == ".pdb" else (topology or system.pdb)
        xyz = read_frames(file, None if top is None else Path(top))
        return torch.from_numpy(xyz.reshape(xyz.shape[0], -1))
    raise InputFileError(
        f"{path}.path: {file}: expected .npz or a trajectory ({', '.join(TRAJECTORY_SUFFIXES)})"
    )
