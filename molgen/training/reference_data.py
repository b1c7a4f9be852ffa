"""Training data from a ``molgen reference`` folder: its equilibrated frames.

A reference run stores every recorded frame, including those before equilibration that
its statistics drop (``stats.json``'s ``equilibration_frames``). Training on them would
teach a generator the starting structure, so only the frames the statistics use are
returned. Molecular frames are further put in the pose where a ``rigid`` alignment
penalty vanishes: heavy-atom centre at the origin, Kabsch-rotated onto the penalty's
reference structure (:meth:`forcefields.rigid_pose.RigidPose.aligned`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from forcefields.errors import InputFileError

__all__ = ["equilibrated_reference_frames"]


def equilibrated_reference_frames(
    folder: Path | str,
    system,
    align: Mapping[str, Any] | None = None,
    temperature_factor: float = 1.0,
) -> np.ndarray:
    """The equilibrated frames of the reference run in ``folder`` (float64).

    Arguments:
        folder: a ``molgen reference`` output folder of ``system``.
        system: the :class:`systems.System` the frames are for.
        align: alignment options of :meth:`systems.System.energy`; in ``rigid`` mode the
            molecular frames are superposed into the penalty's zero-energy pose.
        temperature_factor: the frames must have been sampled at ``system``'s temperature
            times this factor (``stats.json``'s ``temperature``, when recorded).

    Returns:
        ``(M, N, 3)`` nm for a molecule (``trajectory.dcd`` + ``topology.pdb``), ``(M, D)``
        for a toy system (``samples.npz``'s ``x``).

    Raises:
        InputFileError: the folder is not a reference run of ``system`` at that
            temperature, it has no ``frames.npz``, its files are unreadable or disagree in
            length, or no frame is left after equilibration.
    """
    from molgen.estimate.reference import read_reference
    from molgen.estimate.samples import system_temperature

    folder = Path(folder)
    reference = read_reference(folder)
    recorded = reference.stats.get("system")
    if recorded is not None and recorded != system.name:
        raise InputFileError(
            f"{folder / 'stats.json'}: a reference run of {recorded!r}, not {system.name!r}"
        )
    sampled = reference.stats.get("temperature")
    wanted = system_temperature(system) * temperature_factor
    if isinstance(sampled, int | float) and not math.isclose(sampled, wanted, rel_tol=1e-6):
        raise InputFileError(
            f"{folder / 'stats.json'}: frames sampled at temperature {sampled:g}, but the "
            f"phase trains at {wanted:g}"
        )
    if not (folder / "frames.npz").is_file():
        raise InputFileError(f"{folder / 'frames.npz'}: not found (needed for equilibration)")
    frames = _recorded_frames(reference, system)
    keep = reference.equilibrated
    if len(keep) != len(frames):
        raise InputFileError(
            f"{folder / 'frames.npz'}: {len(keep)} frames, but the run's coordinates "
            f"hold {len(frames)}"
        )
    if not keep.any():
        raise InputFileError(f"{folder / 'frames.npz'}: no frames after equilibration")
    frames = frames[keep]
    if system.kind == "molecule" and align is not None and align.get("mode") == "rigid":
        import torch

        from systems.reference.rigid_resampling import rigid_pose

        tensor = torch.as_tensor(frames, dtype=torch.float64)
        frames = rigid_pose(system, align).aligned(tensor).numpy()
    return frames


def _recorded_frames(reference, system) -> np.ndarray:
    """Every recorded frame of the run ``reference``: ``(B, N, 3)`` or ``(B, D)``."""
    folder = reference.folder
    if system.kind == "molecule":
        from systems.trajectories import read_frames

        return read_frames(folder / "trajectory.dcd", folder / "topology.pdb")
    points = reference.recorded_points()
    if points is None:
        raise InputFileError(f"{folder / 'samples.npz'}: reference samples not found")
    return points
