"""Chunked, resumable sampling of a run into files.

Chunks of ``batch`` samples are written atomically to a hidden ``.<name>.parts/``
directory next to the output, with a manifest of what they belong to (run, checkpoint,
seed, n, batch, :data:`CHUNK_VERSION`). A call that finds matching chunks reuses them,
so a killed call resumes; the final files are assembled from the chunks, written
atomically, and the chunks removed. The sidecar keeps the manifest (``arguments``): an
existing output written with other arguments is refused rather than overwritten, one
written with the same arguments is written again (identically).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from forcefields.atomic_files import save_npz_atomic, write_text_atomic
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
        "step": run.step,
        "seed": seed,
        "n": n,
        "batch": batch,
        "version": CHUNK_VERSION,
    }
    sidecar = sidecar_path(out)
    outputs = [*trajectory_files(out), sidecar] if molecule else [sidecar]
    _check_existing(outputs, sidecar, manifest, parts)
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


def _check_existing(outputs: list[Path], sidecar: Path, manifest: dict, parts: Path) -> None:
    """Raise :class:`ConfigError` naming the first existing file of ``outputs`` unless the
    ``sidecar`` records that it was written with ``manifest``, or the chunks in ``parts``
    were drawn with ``manifest`` (a call with these arguments was killed after writing
    the trajectory and before the sidecar: resume it)."""
    existing = [path for path in outputs if path.exists()]
    if not existing or _stored_arguments(sidecar) == manifest:
        return
    if _parts_manifest(parts) == manifest:
        return
    raise ConfigError(
        f"--out: {existing[0]} exists and was not written with these arguments "
        f"(seed {manifest['seed']}, n {manifest['n']}, batch {manifest['batch']}); "
        "pick another --out or delete it"
    )


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
