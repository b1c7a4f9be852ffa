"""Exact samples of ``exp(−β (U + U_align))`` for the ``rigid`` penalty, from physical frames.

Under the ``rigid`` alignment penalty (DESIGN.md decision 3; thesis §2.4 for the
penalty it replaces) the target ``exp(−β (U(x) + U_align(x)))`` factorises into the
shape, distributed as in the physical ensemble (``Z_align`` is the same for every
shape), and an independent rigid-body pose with the known density of
:class:`forcefields.rigid_pose.RigidPose`. So each physical frame is aligned to the
reference frame (barycentre of the selected atoms at the origin, optimal Kabsch
rotation the identity) and moved by a pose drawn exactly from that density: exact
physical frames give exact samples of the aligned target, with which flows trained
on it can be checked on all coordinates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from forcefields.errors import NonFiniteCoordinatesError, ShapeMismatchError
from forcefields.rigid_pose import POSE_LATENT_DIM, RigidPose
from forcefields.units import beta_from_temperature

__all__ = ["DEFAULT_RIGID_ALIGNMENT", "rigid_pose", "resample_rigid"]

DEFAULT_RIGID_ALIGNMENT = {"mode": "rigid", "atoms": "heavy"}


def rigid_pose(
    system, align_options: Mapping[str, Any] | None = None, temperature: float | None = None
) -> RigidPose:
    """The :class:`RigidPose` of ``system``'s penalty with ``align_options`` at ``temperature``.

    ``align_options`` are those of :meth:`systems.System.energy` (``mode`` must be
    ``"rigid"``; ``reference`` defaults to the system's minimised positions).
    """
    options = dict(DEFAULT_RIGID_ALIGNMENT if align_options is None else align_options)
    penalty = system.energy(dtype=torch.float64, align=options).alignment
    beta = system.beta if temperature is None else beta_from_temperature(temperature)
    return RigidPose(penalty, beta)


def resample_rigid(
    system,
    frames,
    align_options: Mapping[str, Any] | None = None,
    seed: int = 0,
    temperature: float | None = None,
):
    """Frames ``(M, N, 3)`` nm with their pose redrawn from the ``rigid`` penalty's density.

    Arguments:
        system: a molecular :class:`systems.System`.
        frames: ``(M, N, 3)`` nm (numpy or torch), physical samples at ``temperature``.
        align_options: the alignment penalty's options (default
            :data:`DEFAULT_RIGID_ALIGNMENT`).
        seed: seed of the pose draws (same seed, same poses).
        temperature: K; default the system's.

    Returns float64 frames of the input's kind (numpy or torch): ``s Rᵀ + t`` with ``s``
    the aligned shape of each frame and ``(R, t)`` drawn from :class:`RigidPose`.

    Example:
        >>> import systems
        >>> butane = systems.load("butane")
        >>> resample_rigid(butane, butane.positions[None].repeat(4, 0), seed=1).shape
        (4, 14, 3)
    """
    pose = rigid_pose(system, align_options, temperature)
    is_tensor = isinstance(frames, torch.Tensor)
    x = frames.detach().cpu().double() if is_tensor else torch.as_tensor(np.asarray(frames))
    x = x.to(torch.float64)
    if x.ndim != 3 or x.shape[1:] != (system.n_atoms, 3):
        raise ShapeMismatchError(
            f"rigid resampling: frames of shape {tuple(x.shape)}, expected (M, {system.n_atoms}, 3)"
        )
    if not bool(torch.isfinite(x).all()):
        raise NonFiniteCoordinatesError("rigid resampling: frames contain NaN or infinite values")
    generator = torch.Generator().manual_seed(int(seed))
    z = torch.randn(x.shape[0], POSE_LATENT_DIM, generator=generator, dtype=torch.float64)
    with torch.no_grad():
        rotation, translation = pose.from_latent(z)
        resampled = pose.aligned(x) @ rotation.mT + translation[:, None]
    return resampled if is_tensor else resampled.numpy()
