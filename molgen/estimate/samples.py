"""Reading the samples ``molgen sample`` writes: a per-sample ``.npz`` sidecar, and for
molecules an mdtraj trajectory next to it.

Sidecar arrays (one entry per sample, all the same length ``n``):

- ``log_w`` (required, or computed from ``u_b`` and ``log_p_g``, see below): unnormalised
  log importance weights, ``−u_b − log p_G − log Z_align`` for generator samples
  (``−inf`` outside a canonical methyl labelling; see
  :func:`~molgen.sampling.generator.draw_samples`), equal for MD / PT frames;
- ``u_b`` (optional): ``β`` times the energy the run trained towards (dimensionless):
  ``βU_B``, plus ``β`` times the alignment penalty for a run with one;
- ``log_p_g`` (optional): log density of the generator (``U_G = −log p_G``);
- ``log_z_align`` (optional): the alignment's log rigid-motion integral per sample;
- ``temperature`` (optional, not per sample): the temperature the samples were drawn at,
  K for molecules and the temperature factor ``1/β`` for toys (:func:`system_temperature`);
  a sidecar without it was drawn at its system's default temperature;
- ``modes`` (optional): integer mode labels (all ``-1``: the system has no modes);
- ``mode_names`` (optional, not per sample): names of the labels ``0, 1, ...``;
- ``x`` (optional): coordinates of points that are not atoms (toys), ``(n, D)``;
- ``system`` (optional, not per sample): the name for ``systems.load``;
- any other numeric array (e.g. observables ``dihedral``, ``phi``, ``psi``) is per
  sample: of length ``n`` (else the sidecar is refused), kept in :attr:`SampleSet.arrays`.

Without ``log_w`` it is computed as ``−u_b − log_p_g − log_z_align`` (``log_z_align``
taken as 0 when absent: right for runs without an alignment penalty, for which ``u_b`` is
``βU_B``). This cannot restore the ``−inf`` of samples outside a canonical methyl labelling,
which only ``log_w`` records; ``molgen sample`` always writes ``log_w``.

A ``molgen reference`` folder (``stats.json`` and ``frames.npz``) is read as samples too:
its frames after equilibration (:attr:`~molgen.estimate.reference.ReferenceData.equilibrated`),
each chain's in order, with ``log_w = 0``, the stored ``mode`` labels and observables, the
``system`` and ``temperature`` of ``stats.json``, and coordinates from its
``trajectory.dcd`` (molecules) or ``samples.npz`` (toys).

Where the files are: ``FILE.npz`` is read as given; a trajectory ``T`` finds its sidecar
at ``T.npz`` or with its suffix replaced by ``.npz``; a run directory ``RUN`` holds exactly
one ``samples*.npz`` (in ``RUN`` or ``RUN/samples``). The trajectory of ``S.npz`` is ``S``
when ``S`` has a trajectory suffix, else the file with the sidecar's stem and one of
``.h5 .dcd .xtc .pdb`` (this is where ``molgen sample`` puts them: ``FILE`` and
``FILE.npz``; a ``.dcd``/``.xtc`` gets its topology from the ``.pdb`` of the same stem).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from forcefields.errors import InputFileError, ShapeMismatchError
from forcefields.npz_input import read_npz

if TYPE_CHECKING:
    from systems.registry import System

__all__ = [
    "SampleSet",
    "TRAJECTORY_SUFFIXES",
    "find_sidecar",
    "is_reference_folder",
    "load_samples",
    "system_temperature",
]

TRAJECTORY_SUFFIXES = (".h5", ".dcd", ".xtc", ".pdb")
_PER_SAMPLE_KEYS = ("log_w", "u_b", "log_p_g", "log_z_align", "modes", "x")
_METADATA_KEYS = ("temperature", "mode_names", "system", "arguments")


@dataclass(frozen=True)
class SampleSet:
    """Samples of a generator with their per-sample arrays (see the module docstring).

    Attributes:
        sidecar: the ``.npz`` file read.
        log_w: ``(n,)`` unnormalised log importance weights.
        u_b: ``(n,)`` reduced target energies (``βU_B``, plus the alignment penalty for
            an aligned run), or ``None``.
        log_p_g: ``(n,)`` generator log densities, or ``None``.
        modes: ``(n,)`` integer mode labels, or ``None``.
        points: ``(n, D)`` toy coordinates from ``x``, or ``None``.
        trajectory: the molecule trajectory beside the sidecar, or ``None``.
        system: system name stored in the sidecar, or ``None``.
        temperature: sampling temperature stored in the sidecar (K; toys: ``1/β``), or
            ``None`` (an older sidecar: the system's default temperature).
        mode_names: label names stored in the sidecar (empty if none).
        arrays: every per-sample array of the sidecar by name.
        frame_indices: ``(n,)`` the frames of ``trajectory`` that are the samples
            (``None``: all of them; a reference folder's equilibrated frames).
    """

    sidecar: Path
    log_w: np.ndarray
    u_b: np.ndarray | None = None
    log_p_g: np.ndarray | None = None
    modes: np.ndarray | None = None
    points: np.ndarray | None = None
    trajectory: Path | None = None
    system: str | None = None
    temperature: float | None = None
    mode_names: tuple[str, ...] = ()
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    frame_indices: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of samples."""
        return self.log_w.size


def system_temperature(system: System) -> float:
    """The temperature of a ``systems.System`` as the sidecar's ``temperature`` records it:
    K for a molecule, the temperature factor ``1/β`` for a toy."""
    return float(system.temperature) if system.temperature is not None else 1.0 / system.beta


def is_reference_folder(path: Path | str) -> bool:
    """Whether ``path`` is the folder of a ``molgen reference`` run."""
    path = Path(path)
    return (path / "stats.json").is_file() and (path / "frames.npz").is_file()


def _reference_samples(folder: Path) -> SampleSet:
    """The equilibrated frames of the reference run in ``folder`` as equally weighted
    samples (see the module docstring)."""
    from molgen.estimate.reference import read_reference

    reference = read_reference(folder)
    keep = reference.equilibrated
    if not keep.any():
        raise InputFileError(f"{folder / 'frames.npz'}: no frames after equilibration")
    frames = reference.equilibrated_frames
    points = reference.recorded_points()
    if points is not None:
        points = points[keep]
    trajectory = folder / "trajectory.dcd"
    temperature = reference.stats.get("temperature")
    n = int(keep.sum())
    return SampleSet(
        sidecar=folder / "frames.npz",
        log_w=np.zeros(n),
        modes=frames["mode"].astype(np.int64) if "mode" in frames else None,
        points=points,
        trajectory=trajectory if trajectory.is_file() else None,
        system=reference.stats.get("system"),
        temperature=None if temperature is None else float(temperature),
        arrays={key: value for key, value in frames.items() if value.shape[:1] == (n,)},
        frame_indices=np.flatnonzero(keep),
    )


def find_sidecar(path: Path | str) -> Path:
    """The sidecar ``.npz`` for a sidecar, trajectory or run-directory ``path``."""
    path = Path(path)
    if path.is_dir():
        found = sorted({*path.glob("samples*.npz"), *path.glob("samples/*.npz")})
        if len(found) != 1:
            names = ", ".join(str(p) for p in found) or "none"
            raise InputFileError(f"{path}: expected one samples*.npz in the run (found {names})")
        return found[0]
    if path.suffix == ".npz":
        if not path.is_file():
            raise InputFileError(f"{path}: samples file not found")
        return path
    for candidate in (path.with_name(path.name + ".npz"), path.with_suffix(".npz")):
        if candidate.is_file():
            return candidate
    raise InputFileError(f"{path}: no sidecar {path.name}.npz or {path.stem}.npz beside it")


def _trajectory_of(sidecar: Path) -> Path | None:
    inner = sidecar.with_suffix("")
    if inner.suffix in TRAJECTORY_SUFFIXES and inner.is_file():
        return inner
    for suffix in TRAJECTORY_SUFFIXES:
        candidate = sidecar.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def _temperature(arrays: dict[str, np.ndarray], sidecar: Path) -> float | None:
    if "temperature" not in arrays:
        return None
    value = arrays["temperature"]
    real = np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer)
    if value.shape != () or not real:
        raise InputFileError(f"{sidecar}: 'temperature' must be a number, got {value!r}")
    if not (np.isfinite(value) and value > 0):
        raise InputFileError(f"{sidecar}: 'temperature' must be finite and > 0, got {value}")
    return float(value)


def _is_numeric(value: np.ndarray) -> bool:
    return np.issubdtype(value.dtype, np.number) or np.issubdtype(value.dtype, np.bool_)


def _check_log_weights(log_w: np.ndarray, sidecar: Path) -> None:
    """Raise :class:`InputFileError` naming ``sidecar`` unless ``log_w`` holds at least one
    sample, no NaN or ``+inf`` and not only ``-inf`` (zero weights)."""
    if not _is_numeric(log_w):
        raise InputFileError(f"{sidecar}: 'log_w' must be numbers, got {log_w.dtype}")
    values = log_w.astype(np.float64)
    if values.size == 0:
        raise InputFileError(f"{sidecar}: no samples (empty 'log_w')")
    if np.isnan(values).any() or np.isposinf(values).any():
        raise InputFileError(f"{sidecar}: 'log_w' holds NaN or +inf")
    if np.isneginf(values).all():
        raise InputFileError(f"{sidecar}: 'log_w': every weight is zero (all -inf)")


def load_samples(path: Path | str) -> SampleSet:
    """Read the sidecar of ``path`` (see :func:`find_sidecar`) into a :class:`SampleSet`.

    Raises:
        InputFileError: unreadable file, neither ``log_w`` nor ``u_b`` + ``log_p_g``, log
            weights that are NaN, ``+inf``, all ``-inf`` or none, or a ``temperature`` that
            is not a positive number.
        ShapeMismatchError: per-sample arrays (every numeric array with a sample axis,
            observables included) of different lengths, or not one entry per sample
            (``log_w``, ``u_b``, ``log_p_g``, ``log_z_align``, ``modes`` vectors ``(n,)``,
            ``x`` ``(n, ...)``).
    """
    if is_reference_folder(path):
        return _reference_samples(Path(path))
    sidecar = find_sidecar(path)
    arrays = read_npz(sidecar)
    if "log_w" not in arrays and ("u_b" not in arrays or "log_p_g" not in arrays):
        raise InputFileError(f"{sidecar}: needs 'log_w' (or 'u_b' and 'log_p_g')")
    for key in _PER_SAMPLE_KEYS:
        if key in arrays and (arrays[key].ndim == 0 or (key != "x" and arrays[key].ndim != 1)):
            raise ShapeMismatchError(
                f"{sidecar}: '{key}' must hold one entry per sample, got shape {arrays[key].shape}"
            )
    # Every numeric array with a sample axis (observables too) is per sample.
    per_sample = [
        key
        for key, value in arrays.items()
        if key in _PER_SAMPLE_KEYS
        or (key not in _METADATA_KEYS and value.ndim >= 1 and _is_numeric(value))
    ]
    lengths = {key: len(arrays[key]) for key in per_sample}
    if len(set(lengths.values())) != 1:
        raise ShapeMismatchError(f"{sidecar}: per-sample arrays differ in length {lengths}")
    if "log_w" not in arrays:
        arrays["log_w"] = -arrays["u_b"] - arrays["log_p_g"] - arrays.get("log_z_align", 0.0)
    _check_log_weights(arrays["log_w"], sidecar)

    def vector(key: str, dtype) -> np.ndarray | None:
        return arrays[key].astype(dtype).reshape(-1) if key in arrays else None

    points = arrays.get("x")
    if "modes" in arrays and not (
        _is_numeric(arrays["modes"]) and np.array_equal(arrays["modes"], np.round(arrays["modes"]))
    ):
        raise ShapeMismatchError(f"{sidecar}: 'modes' must hold integer mode labels")
    if "mode_names" in arrays and arrays["mode_names"].ndim != 1:
        raise InputFileError(f"{sidecar}: 'mode_names' must be a vector of names")
    modes = vector("modes", np.int64)
    if modes is not None and (modes < 0).all():
        modes = None
    n = len(arrays["log_w"])
    return SampleSet(
        sidecar=sidecar,
        log_w=vector("log_w", np.float64),
        u_b=vector("u_b", np.float64),
        log_p_g=vector("log_p_g", np.float64),
        modes=modes,
        points=None if points is None else points.astype(np.float64),
        trajectory=_trajectory_of(sidecar),
        system=str(arrays["system"]) if "system" in arrays else None,
        temperature=_temperature(arrays, sidecar),
        mode_names=tuple(str(name) for name in arrays.get("mode_names", ())),
        arrays={key: value for key, value in arrays.items() if value.shape[:1] == (n,)},
    )
