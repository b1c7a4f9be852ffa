"""Chunked, resumable sampling of a run into files.

Chunks of ``batch`` samples are written atomically to a hidden ``.<name>.parts/``
directory next to the output, with a manifest of what they belong to (run, checkpoint
and its SHA-256, device, seed, n, batch, :data:`CHUNK_VERSION`). A call that finds
matching chunks reuses them, so a killed call resumes; the final files are assembled
from the chunks, written atomically, and the chunks removed. The sidecar keeps the
manifest (``arguments``): an existing output written with other arguments is refused
rather than overwritten, one written with the same arguments is written again (identically).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from forcefields.atomic_files import nearest_existing_folder, save_npz_atomic, write_text_atomic
from forcefields.errors import ConfigError
from molgen.estimate.samples import system_temperature
from molgen.sampling.generator import draw_samples, load_run
from molgen.sampling.writers import (
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
        reused_chunks: chunks found from an earlier, interrupted call.
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

    Toys: ``out`` (``.npz``, or ``out + '.npz'``) holds ``x`` and the per-sample arrays of
    :func:`~molgen.sampling.generator.draw_samples`. Molecules: ``out`` is a trajectory
    (``.h5``, ``.dcd``, ``.xtc``, ``.pdb``; frames ``(n, N, 3)`` nm) and ``out + '.npz'``
    holds the per-sample arrays (without ``x``). Both also hold ``system``, ``mode_names``
    and ``temperature`` (the system's, at which the weights were computed: K, toys
    ``1/β``). Same seed and batch: identical files.
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
    _check_room(n, run.system.dimension, out)
    reused = _prepare_parts(parts, manifest)
    starts = list(range(0, n, batch))
    for index, start in enumerate(tqdm(starts, disable=not progress, desc="sample", unit="chunk")):
        chunk = parts / f"chunk_{index:06d}.npz"
        if not chunk.is_file():
            save_npz_atomic(chunk, draw_samples(run, seed, start, min(start + batch, n)))
    arrays = _assemble(parts, len(starts))
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


BYTES_PER_SCALAR = 8
PER_SAMPLE_SCALARS = 32
"""Generous count of the float64 numbers a sample's sidecar holds besides its
coordinates (log densities, energies, weights, modes, observables)."""


def _check_room(n: int, dimension: int, out: Path) -> None:
    """Raise :class:`ConfigError` naming ``-n`` when ``n`` samples of ``dimension``
    coordinates would not fit on the disk of ``out`` (chunks, then the files) or in
    memory (the chunks are joined there) — before any sample is drawn."""
    needed = n * (dimension + PER_SAMPLE_SCALARS) * BYTES_PER_SCALAR
    folder = nearest_existing_folder(out.resolve())
    room = {"disk": shutil.disk_usage(folder).free / 2, "memory": _available_memory()}
    for where, free in room.items():
        if free is not None and needed > free:
            raise ConfigError(
                f"-n: {n} samples need about {needed / 1e9:.3g} GB, more than the "
                f"{free / 1e9:.3g} GB this run may use of {where}"
                + (f" (half the free space in {folder})" if where == "disk" else "")
            )


def _available_memory() -> int | None:
    """Bytes of memory available to new allocations (Linux's ``MemAvailable``, which
    counts reclaimable caches), or ``None`` where unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


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
    the trajectory and before the sidecar: resume it)."""
    existing = [path for path in outputs if path.exists()]
    stored = _stored_arguments(sidecar)
    if not existing or stored == manifest:
        return
    if _parts_manifest(parts) == manifest:
        return
    raise ConfigError(
        f"--out: {existing[0]} exists and was not written with these arguments"
        f"{_differences(stored, manifest)}; pick another --out or delete it"
    )


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


def _stored_arguments(sidecar: Path) -> dict | None:
    """The manifest an earlier call stored in ``sidecar``; ``None`` when there is none."""
    try:
        with np.load(sidecar, allow_pickle=False) as archive:
            return json.loads(str(archive["arguments"])) if "arguments" in archive.files else None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None


def _parts_manifest(parts: Path) -> dict | None:
    """The manifest of the chunks in ``parts``; ``None`` when there is none."""
    try:
        return json.loads((parts / "manifest.json").read_text())
    except (OSError, ValueError):
        return None


def _prepare_parts(parts: Path, manifest: dict) -> int:
    manifest_file = parts / "manifest.json"
    if parts.is_dir():
        if _parts_manifest(parts) == manifest:
            return len(list(parts.glob("chunk_*.npz")))
        shutil.rmtree(parts)
    parts.mkdir(parents=True)
    write_text_atomic(manifest_file, json.dumps(manifest), mode=0o644)
    return 0


def _assemble(parts: Path, count: int) -> dict[str, np.ndarray]:
    pieces: dict[str, list[np.ndarray]] = {}
    for index in range(count):
        with np.load(parts / f"chunk_{index:06d}.npz", allow_pickle=False) as chunk:
            for key in chunk.files:
                pieces.setdefault(key, []).append(chunk[key])
    return {key: np.concatenate(values) for key, values in pieces.items()}
