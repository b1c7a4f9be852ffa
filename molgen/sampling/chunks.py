"""Chunked, resumable sampling of a run into files.

Chunks of ``batch`` samples are written atomically to a hidden ``.<name>.parts/``
directory next to the output, with a manifest of what they belong to (run, checkpoint
and its SHA-256, device, seed, n, batch, :data:`CHUNK_VERSION`). A call that finds
matching chunks reuses them, so a killed call resumes; an unreadable chunk (damaged,
truncated) is warned about and drawn again, to the same numbers. The final files are
assembled from the chunks, written atomically, and the chunks removed. The sidecar keeps
the manifest (``arguments``): an existing output written with other arguments, or whose
sidecar is missing or unreadable, is refused rather than overwritten; one written with the
same arguments is written again (identically).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from forcefields.atomic_files import save_npz_atomic, write_text_atomic
from forcefields.errors import ConfigError
from molgen.estimate.samples import system_temperature
from molgen.sampling.checks import check_room, warn_if_not_finite
from molgen.sampling.generator import LoadedRun, draw_samples, load_run
from molgen.sampling.writers import (
    check_arrays_path,
    check_trajectory_path,
    sidecar_path,
    trajectory_files,
    write_trajectory_atomic,
)

__all__ = ["CHUNK_VERSION", "SampleOutput", "sample_run"]

CHUNK_VERSION = 2
"""Version of the chunks' contents; chunks of another version are not reused. Version 2:
``log_z_align`` stored, its ``thesis``-mode rotations seeded per latent block."""


@dataclass
class SampleOutput:
    """Files written by :func:`sample_run`.

    Attributes:
        files: every file written (trajectory, topology, sidecar ``.npz``).
        arrays: the sidecar ``.npz``.
        checkpoint: the checkpoint sampled.
        reused_chunks: readable chunks found from an earlier, interrupted call.
    """

    files: list[Path]
    arrays: Path
    checkpoint: Path
    reused_chunks: int


def sample_run(
    run_dir: str | Path,
    n: int,
    out: str | Path,
    *,
    batch: int = 4096,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    device: str = "cpu",
    progress: bool = True,
) -> SampleOutput:
    """Draw ``n`` samples of a trained run and write them.

    Toys: ``out`` (``.npz``, or ``out + '.npz'`` for a name without suffix; other suffixes
    are refused) holds ``x`` and the per-sample arrays of
    :func:`~molgen.sampling.generator.draw_samples`. Molecules: ``out`` is a trajectory
    (``.h5``, ``.dcd``, ``.xtc``, ``.pdb``; frames ``(n, N, 3)`` nm) and ``out + '.npz'``
    holds the per-sample arrays (without ``x``). Both also hold ``system``, ``mode_names``
    and ``temperature`` (the system's, at which the weights were computed: K, toys
    ``1/β``). Same seed and batch: identical samples (a DCD header also records its
    creation time). Warns (:class:`RuntimeWarning`) of each
    unreadable chunk of an earlier call (drawn again) and when almost no sample is finite
    (:func:`~molgen.sampling.checks.warn_if_not_finite`).
    """
    if n <= 0:
        raise ConfigError(f"-n: must be positive, got {n}")
    if batch <= 0:
        raise ConfigError(f"--batch: must be positive, got {batch}")
    if seed < 0:
        raise ConfigError(f"--seed: must be non-negative, got {seed}")
    run = load_run(run_dir, checkpoint, device)
    out = Path(out)
    molecule = run.system.kind == "molecule"
    if molecule:
        check_trajectory_path(out)
    else:
        check_arrays_path(out)
    parts = out.with_name(f".{out.name}.parts")
    manifest = {
        "run": str(Path(run_dir).resolve()),
        "checkpoint": str(run.checkpoint.resolve()),
        "checkpoint_sha256": _sha256(run.checkpoint),
        "device": next(run.flow.parameters()).device.type,
        "step": run.step,
        "seed": seed,
        "n": n,
        "batch": batch,
        "version": CHUNK_VERSION,
    }
    sidecar = sidecar_path(out)
    outputs = [*trajectory_files(out), sidecar] if molecule else [sidecar]
    _check_existing(outputs, sidecar, manifest, parts)
    check_room(n, run.system.dimension, out)
    _prepare_parts(parts, manifest)
    arrays, reused = _draw_chunks(run, parts, n, batch, seed, progress)
    warn_if_not_finite(arrays, sidecar, run.checkpoint)
    files = []
    if molecule:
        xyz = arrays.pop("x").reshape(n, run.system.n_atoms, 3)
        files += write_trajectory_atomic(out, xyz, run.system.topology)
    names = {"mode_names": np.array(run.system.mode_names, dtype=str)}
    names["system"] = np.array(run.config.system, dtype=str)
    names["temperature"] = np.array(system_temperature(run.system))
    names["arguments"] = np.array(json.dumps(manifest, sort_keys=True), dtype=str)
    save_npz_atomic(sidecar, {**arrays, **names}, mode=0o644)
    files.append(sidecar)
    shutil.rmtree(parts)
    return SampleOutput(files, sidecar, run.checkpoint, reused)


def _sha256(path: Path) -> str:
    """Hex SHA-256 of the file ``path``: a retrained checkpoint of the same name and step
    has other weights, and its chunks must not be mixed with the old ones."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_existing(outputs: list[Path], sidecar: Path, manifest: dict, parts: Path) -> None:
    """Raise :class:`ConfigError` naming the first existing file of ``outputs`` unless the
    ``sidecar`` records that it was written with ``manifest``, or the chunks in ``parts``
    were drawn with ``manifest`` (a call with these arguments was killed after writing
    the trajectory and before the sidecar: resume it). The message says what is wrong:
    other arguments (which), none recorded, or a sidecar missing or unreadable."""
    existing = [path for path in outputs if path.exists()]
    if not existing:
        return
    stored, unreadable = _stored_arguments(sidecar)
    if stored == manifest or _parts_manifest(parts) == manifest:
        return
    if unreadable is None:
        problem = f"exists and was not written with these arguments{_differences(stored, manifest)}"
    elif existing[0] == sidecar:
        problem = f"exists but {unreadable}"
    else:
        problem = f"exists but {sidecar}, which would record its arguments, {unreadable}"
    raise ConfigError(f"--out: {existing[0]} {problem}; pick another --out or delete it")


def _differences(stored: dict | None, manifest: dict) -> str:
    """`` (what differs: old → new, ...)`` between two manifests; ``""`` when unknown."""
    if stored is None:
        return " (it records none)"
    changed = [
        f"{key} {stored.get(key)} → {manifest.get(key)}"
        for key in [*manifest, *(key for key in stored if key not in manifest)]
        if stored.get(key) != manifest.get(key)
    ]
    return f" ({'; '.join(changed)})"


def _stored_arguments(sidecar: Path) -> tuple[dict | None, str | None]:
    """The manifest an earlier call stored in ``sidecar`` (``None`` when there is none), and
    why ``sidecar`` could not be read (``"is missing"``, ``"is empty"``, ...; ``None`` when
    it could)."""
    if not sidecar.exists():
        return None, "is missing"
    if sidecar.stat().st_size == 0:
        return None, "is empty"
    try:
        with np.load(sidecar, allow_pickle=False) as archive:
            if "arguments" not in archive.files:
                return None, None
            stored = json.loads(str(archive["arguments"]))
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        return None, f"is not a readable .npz ({type(error).__name__}: truncated or damaged?)"
    if not isinstance(stored, dict):
        return None, "records its arguments unreadably (not a JSON object)"
    return stored, None


def _parts_manifest(parts: Path) -> dict | None:
    """The manifest of the chunks in ``parts``; ``None`` when there is none."""
    try:
        return json.loads((parts / "manifest.json").read_text())
    except (OSError, ValueError):
        return None


def _prepare_parts(parts: Path, manifest: dict) -> None:
    """Keep ``parts`` when its chunks were drawn with ``manifest``, else (re)create it empty
    with ``manifest.json``."""
    if parts.is_dir():
        if _parts_manifest(parts) == manifest:
            return
        shutil.rmtree(parts)
    parts.mkdir(parents=True)
    write_text_atomic(parts / "manifest.json", json.dumps(manifest), mode=0o644)


def _draw_chunks(
    run: LoadedRun, parts: Path, n: int, batch: int, seed: int, progress: bool
) -> tuple[dict[str, np.ndarray], int]:
    """The per-sample arrays (each ``(n, ...)``) of samples ``0 .. n-1``, joined from chunks
    of ``batch`` samples saved in ``parts``, and the number of chunks reused from there.

    A chunk missing from ``parts`` is drawn and saved; one there but unreadable (a damaged
    or truncated file) is warned about and drawn again, to the same numbers: a sample
    depends only on the seed, its index and the device (see
    :func:`~molgen.sampling.generator.draw_samples`).
    """
    pieces = []
    reused = 0
    starts = range(0, n, batch)
    for index, start in enumerate(tqdm(starts, disable=not progress, desc="sample", unit="chunk")):
        stop = min(start + batch, n)
        chunk = parts / f"chunk_{index:06d}.npz"
        arrays = _read_chunk(chunk)
        if arrays is None:
            arrays = draw_samples(run, seed, start, stop)
            save_npz_atomic(chunk, arrays)
        else:
            reused += 1
        pieces.append(arrays)
    return {key: np.concatenate([piece[key] for piece in pieces]) for key in pieces[0]}, reused


def _read_chunk(chunk: Path) -> dict[str, np.ndarray] | None:
    """The arrays of ``chunk``; ``None`` when it is missing, or, with a
    :class:`RuntimeWarning` naming it, when it cannot be read whole (damaged, truncated)."""
    if not chunk.is_file():
        return None
    try:
        with np.load(chunk, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        warnings.warn(
            f"{chunk}: unreadable ({type(error).__name__}); drawing its samples again",
            RuntimeWarning,
            stacklevel=4,  # the caller of sample_run
        )
        return None
