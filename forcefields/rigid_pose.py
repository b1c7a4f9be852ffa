"""The rigid-body pose distribution of the ``rigid`` alignment penalty: exact draws and density.

Under ``exp(-β U_align)`` with the ``rigid`` penalty ``(k_t/2)|c|² + (k_r/2)θ²``
(:mod:`forcefields.alignment`), the pose ``g = (R, t)`` of a configuration relative to
the reference frame is independent of its shape: the translation ``t`` (the barycentre
of the selected atoms) is Gaussian with variance ``1/(β k_t)`` per axis, and the
rotation ``R`` has the density ``exp(-β k_r θ(R)²/2) / I`` with respect to the Haar
measure on SO(3) (total mass 1), where ``I = ∫_0^π (1 - cos θ)/π exp(-β k_r θ²/2) dθ``.

The pose of ``x`` is ``x = s Rᵀ + t`` with ``s`` the aligned shape: its selected atoms
have their barycentre at the origin and the identity as optimal Kabsch rotation onto
the reference.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from forcefields.alignment import AlignmentPenalty, rotation_angle_integral
from forcefields.errors import ConfigError
from forcefields.rotations import rotation_angle, rotation_vector_to_matrix

__all__ = ["RigidPose", "POSE_LATENT_DIM"]

POSE_LATENT_DIM = 7
"""Standard normal numbers per pose: 3 for the translation, 1 for the angle, 3 for the axis."""

_ANGLE_GRID = 2**14
"""Nodes of the tabulated inverse CDF of the rotation angle."""


class RigidPose(torch.nn.Module):
    """Exact sampler and log density of the pose under a ``rigid`` alignment penalty.

    Arguments:
        penalty: an :class:`AlignmentPenalty` in ``rigid`` mode.
        beta: inverse temperature, mol/kJ.

    Example:
        >>> reference = torch.tensor([[0.0, 0.0, 0.0], [0.15, 0.0, 0.0], [0.2, 0.14, 0.0]])
        >>> pose = RigidPose(AlignmentPenalty(reference, mode="rigid"), beta=0.4)
        >>> rotation, translation = pose.from_latent(torch.randn(5, 7, dtype=torch.float64))
        >>> pose.log_prob(rotation, translation).shape
        torch.Size([5])
    """

    def __init__(self, penalty: AlignmentPenalty, beta: float):
        super().__init__()
        if penalty.mode != "rigid":
            raise ConfigError(f"pose distribution: alignment mode {penalty.mode!r}, need 'rigid'")
        if not (math.isfinite(beta) and beta > 0):
            raise ConfigError(f"pose distribution: beta {beta} is not a finite number > 0")
        self.penalty = penalty
        self.translation_precision = beta * penalty.translation_stiffness
        self.rotation_precision = beta * penalty.rotation_stiffness
        if self.translation_precision <= 0:
            raise ConfigError("pose distribution: translation_stiffness 0 (improper density)")
        self.log_angle_normaliser = math.log(rotation_angle_integral(self.rotation_precision))
        angles, cdf = _angle_cdf_table(self.rotation_precision)
        self.register_buffer("angle_nodes", angles)
        self.register_buffer("angle_cdf", cdf)

    def log_prob(self, rotation: Tensor, translation: Tensor) -> Tensor:
        """Log density ``(B,)`` of poses: ``rotation`` ``(B, 3, 3)``, ``translation`` ``(B, 3)`` nm.

        With respect to the Haar measure (total 1) times the Lebesgue measure in nm³.
        """
        a_t, a_r = self.translation_precision, self.rotation_precision
        log_translation = -0.5 * a_t * translation.square().sum(-1) + 1.5 * math.log(
            a_t / (2.0 * math.pi)
        )
        log_rotation = -0.5 * a_r * rotation_angle(rotation).square() - self.log_angle_normaliser
        return log_translation + log_rotation

    def from_latent(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """Poses ``(rotation (B, 3, 3), translation (B, 3) nm)`` from standard normals ``(B, 7)``.

        ``z[:, :3]`` scales to the translation, ``Φ(z[:, 3])`` goes through the tabulated
        inverse CDF of the angle, ``z[:, 4:]`` gives a uniform axis.
        """
        translation = z[:, :3] / math.sqrt(self.translation_precision)
        uniform = torch.special.ndtr(z[:, 3].double())
        angle = _interpolate(uniform, self.angle_cdf, self.angle_nodes).to(z.dtype)
        axis = z[:, 4:] / torch.linalg.vector_norm(z[:, 4:], dim=-1, keepdim=True)
        return rotation_vector_to_matrix(angle[:, None] * axis), translation

    def pose(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Split ``x`` ``(B, N, 3)`` nm into ``(shape (B, N, 3), rotation, translation)``.

        ``x = shape @ rotation.mT + translation[:, None]`` and ``shape`` is aligned.
        """
        centre, to_reference = self.penalty.pose(x)
        shape = (x - centre[:, None]) @ to_reference.mT
        return shape, to_reference.mT, centre

    def aligned(self, x: Tensor) -> Tensor:
        """The aligned shape ``(B, N, 3)`` of coordinates ``x`` ``(B, N, 3)``."""
        return self.pose(x)[0]


def _angle_cdf_table(precision: float) -> tuple[Tensor, Tensor]:
    """Nodes ``(G,)`` on [0, π] and the angle's CDF there (float64), by Simpson segments."""
    upper = math.pi if precision == 0 else min(math.pi, 40.0 / math.sqrt(precision))
    nodes = torch.linspace(0.0, upper, 2 * _ANGLE_GRID + 1, dtype=torch.float64)
    density = (1.0 - torch.cos(nodes)) * torch.exp(-0.5 * precision * nodes.square())
    step = nodes[1] - nodes[0]
    even, middle, odd = density[:-1:2], density[1::2], density[2::2]
    segments = step / 3.0 * (even + 4.0 * middle + odd)
    cdf = torch.cat([torch.zeros(1, dtype=torch.float64), segments.cumsum(0)])
    return nodes[::2], cdf / cdf[-1]


def _interpolate(values: Tensor, table_x: Tensor, table_y: Tensor) -> Tensor:
    """Piecewise-linear ``y(values)`` from increasing ``table_x`` ``(G,)`` (float64)."""
    index = torch.searchsorted(table_x, values).clamp(1, table_x.numel() - 1)
    left_x, right_x = table_x[index - 1], table_x[index]
    fraction = ((values - left_x) / (right_x - left_x).clamp_min(1e-300)).clamp(0.0, 1.0)
    return table_y[index - 1] + fraction * (table_y[index] - table_y[index - 1])
