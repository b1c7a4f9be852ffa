"""Checks around a sampling: room for the samples before drawing them, and a warning
after drawing when almost none of them is finite (a generator whose training diverged)."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np

from forcefields.atomic_files import nearest_existing_folder
from forcefields.errors import ConfigError

__all__ = ["MIN_FINITE_FRACTION", "available_memory", "check_room", "warn_if_not_finite"]

BYTES_PER_SCALAR = 8
PER_SAMPLE_SCALARS = 32
"""Generous count of the float64 numbers a sample's sidecar holds besides its
coordinates (log densities, energies, weights, modes, observables)."""


def check_room(n: int, dimension: int, out: Path) -> None:
    """Raise :class:`ConfigError` naming ``-n`` when ``n`` samples of ``dimension``
    coordinates would not fit on the disk of ``out`` (chunks, then the files) or in
    memory (the chunks are joined there) — before any sample is drawn."""
    needed = n * (dimension + PER_SAMPLE_SCALARS) * BYTES_PER_SCALAR
    folder = nearest_existing_folder(out.resolve())
    room = {"disk": shutil.disk_usage(folder).free / 2, "memory": available_memory()}
    for where, free in room.items():
        if free is not None and needed > free:
            raise ConfigError(
                f"-n: {n} samples need about {needed / 1e9:.3g} GB, more than the "
                f"{free / 1e9:.3g} GB this run may use of {where}"
                + (f" (half the free space in {folder})" if where == "disk" else "")
            )


def available_memory() -> int | None:
    """Bytes of memory available to new allocations (Linux's ``MemAvailable``, which
    counts reclaimable caches), or ``None`` where unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


MIN_FINITE_FRACTION = 0.01
"""Below this fraction of samples with finite coordinates, density and energy a warning is
given. The others have zero weight, so the effective sample size is below 1 % of ``n``,
where :mod:`molgen.estimate.ess` withholds every estimate anyway: the same 1 %, said at
sampling time instead of at evaluation."""


def warn_if_not_finite(arrays: dict[str, np.ndarray], sidecar: Path, checkpoint: Path) -> None:
    """Warn (:class:`RuntimeWarning`) when fewer than :data:`MIN_FINITE_FRACTION` of the
    samples in ``arrays`` (``x`` ``(n, D)``, ``log_p_g`` and ``energy`` ``(n,)``) are finite
    in all three, stating the fraction (a generator whose training diverged draws NaN)."""
    finite = (
        np.isfinite(arrays["x"]).all(axis=1)
        & np.isfinite(arrays["log_p_g"])
        & np.isfinite(arrays["energy"])
    )
    if finite.mean() < MIN_FINITE_FRACTION:
        warnings.warn(
            f"{sidecar}: {finite.sum()} of {finite.size} samples ({finite.mean():.2%}) have "
            f"finite coordinates, log p_G and energy, the others zero weight; did the "
            f"training of {checkpoint} diverge?",
            RuntimeWarning,
            stacklevel=3,  # the caller of sample_run
        )
