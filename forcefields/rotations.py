"""Batched 3-D rotations: Kabsch alignment, rotation angles, capping and Haar sampling.

Rotation matrices have shape ``(..., 3, 3)`` and act on column vectors, so a point
cloud ``y`` of shape ``(..., n, 3)`` is rotated as ``y @ R.mT``. Quaternions are
``(..., 4)`` tensors ``(w, x, y, z)`` with the scalar part first. Rotation vectors
``ω`` of shape ``(..., 3)`` encode the rotation by ``|ω|`` radians about ``ω/|ω|``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from forcefields.analytic import refuse_second_derivatives

__all__ = [
    "kabsch_rotation",
    "rotation_angle",
    "matrix_to_quaternion",
    "quaternion_to_matrix",
    "quaternion_to_rotation_vector",
    "rotation_vector_to_matrix",
    "cap_rotation",
    "random_quaternions",
]


def kabsch_rotation(points: Tensor, reference: Tensor, weights: Tensor | None = None) -> Tensor:
    """Proper rotation that best maps ``points`` onto ``reference`` (Kabsch algorithm).

    Returns ``R`` of shape ``(B, 3, 3)`` minimising ``Σ_i w_i |R y_i - r_i|²`` over
    SO(3). Both clouds must already be centred. The SVD solution is corrected by
    the sign of its determinant, so a mirror-image cloud still yields ``det R = +1``.

    Arguments:
        points: ``(B, n, 3)`` centred coordinates ``y``.
        reference: ``(n, 3)`` or ``(B, n, 3)`` centred coordinates ``r``.
        weights: ``(n,)`` non-negative weights ``w``; ``None`` means all ones.
    """
    weighted = points if weights is None else points * weights[:, None]
    return _SpecialPolarRotation.apply(weighted.mT @ reference)


class _SpecialPolarRotation(torch.autograd.Function):
    r"""``R = V D Uᵀ`` from the SVD ``M = U Σ Vᵀ`` of covariances ``M`` ``(B, 3, 3)``,
    ``D = diag(1, 1, sign det(V Uᵀ))``: the rotation maximising ``tr(R M)``.

    The gradient is that of the (special) polar factor, not of the SVD. With
    ``Q = Rᵀ = U D Vᵀ`` and ``S = Qᵀ M = V Σ̃ Vᵀ`` (``Σ̃ = DΣ``), a change ``dM`` turns ``Q``
    by ``Q V Ω Vᵀ`` with ``Ω_ij = A_ij / (σ̃_i + σ̃_j)``, ``A = Vᵀ(Qᵀ dM − dMᵀ Q)V``. This
    stays finite when two singular values are equal (a selection with equal principal
    moments, e.g. an equilateral triangle), where autograd through ``torch.linalg.svd``
    divides by ``σ_i² − σ_j²`` and returns NaN although ``R`` is smooth there. It is
    undefined only where the rotation itself is not unique (``σ̃_i + σ̃_j = 0``: collinear
    atoms, or a reflected cloud with ``σ_2 = σ_3``); those entries get no gradient.
    """

    @staticmethod
    def forward(ctx, covariance: Tensor) -> Tensor:
        u, sigma, vh = torch.linalg.svd(covariance)
        v = vh.mT
        sign = torch.sign(torch.linalg.det(v) * torch.linalg.det(u))
        sign = torch.where(sign == 0, torch.ones_like(sign), sign)
        v = torch.cat([v[..., :2], v[..., 2:] * sign[..., None, None]], dim=-1)
        signed_sigma = torch.cat([sigma[..., :2], sigma[..., 2:] * sign[..., None]], dim=-1)
        rotation = v @ u.mT
        ctx.save_for_backward(rotation, v, signed_sigma)
        return rotation

    @staticmethod
    def backward(ctx, grad_rotation: Tensor) -> Tensor:
        refuse_second_derivatives("the alignment rotation")
        rotation, v, signed_sigma = ctx.saved_tensors
        q = rotation.mT
        b = v.mT @ q.mT @ grad_rotation.mT @ v
        denominator = signed_sigma[..., :, None] + signed_sigma[..., None, :]
        tolerance = torch.finfo(denominator.dtype).eps * signed_sigma[..., :1, None].abs()
        unique = denominator.abs() > tolerance
        scaled = torch.where(unique, (b - b.mT) / torch.where(unique, denominator, 1.0), 0.0)
        return q @ v @ scaled @ v.mT


def rotation_angle(rotation: Tensor) -> Tensor:
    """Angle in radians, in [0, π], of rotation matrices ``(..., 3, 3)`` → ``(...)``.

    Computed as ``atan2(sin θ, cos θ)`` from the antisymmetric part and the trace,
    which keeps full precision near 0 and π.
    """
    antisymmetric = rotation - rotation.mT
    sine_axis = torch.stack(
        [antisymmetric[..., 2, 1], antisymmetric[..., 0, 2], antisymmetric[..., 1, 0]], dim=-1
    )
    sine = 0.5 * torch.linalg.vector_norm(sine_axis, dim=-1)
    cosine = 0.5 * (torch.diagonal(rotation, dim1=-2, dim2=-1).sum(-1) - 1.0)
    return torch.atan2(sine, cosine)


def matrix_to_quaternion(rotation: Tensor) -> Tensor:
    """Unit quaternions ``(..., 4)`` with non-negative scalar part, from ``(..., 3, 3)``.

    Uses the largest of the four squared components to divide by (Shepperd's
    method), so the result is accurate for every angle, 180° included.
    """
    r = rotation
    trace = r[..., 0, 0] + r[..., 1, 1] + r[..., 2, 2]
    yz, zy = r[..., 1, 2], r[..., 2, 1]
    xz, zx = r[..., 0, 2], r[..., 2, 0]
    xy, yx = r[..., 0, 1], r[..., 1, 0]
    candidates = torch.stack(
        [
            torch.stack([1.0 + trace, zy - yz, xz - zx, yx - xy], dim=-1),
            torch.stack([zy - yz, 1.0 + 2.0 * r[..., 0, 0] - trace, xy + yx, xz + zx], dim=-1),
            torch.stack([xz - zx, xy + yx, 1.0 + 2.0 * r[..., 1, 1] - trace, yz + zy], dim=-1),
            torch.stack([yx - xy, xz + zx, yz + zy, 1.0 + 2.0 * r[..., 2, 2] - trace], dim=-1),
        ],
        dim=-2,
    )
    diagonal = torch.diagonal(candidates, dim1=-2, dim2=-1)
    best = diagonal.argmax(dim=-1, keepdim=True)
    chosen = torch.take_along_dim(candidates, best[..., None], dim=-2).squeeze(-2)
    quaternion = chosen / torch.linalg.vector_norm(chosen, dim=-1, keepdim=True)
    return torch.where(quaternion[..., :1] < 0, -quaternion, quaternion)


def quaternion_to_matrix(quaternion: Tensor) -> Tensor:
    """Rotation matrices ``(..., 3, 3)`` from quaternions ``(..., 4)`` (normalised first)."""
    w, x, y, z = torch.unbind(quaternion / quaternion.norm(dim=-1, keepdim=True), dim=-1)
    rows = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ]
    return torch.stack([torch.stack(row, dim=-1) for row in rows], dim=-2)


def quaternion_to_rotation_vector(quaternion: Tensor) -> Tensor:
    """Rotation vectors ``(..., 3)`` with norm in [0, π] from unit quaternions ``(..., 4)``."""
    q = torch.where(quaternion[..., :1] < 0, -quaternion, quaternion)
    vector_norm = torch.linalg.vector_norm(q[..., 1:], dim=-1, keepdim=True)
    angle = 2.0 * torch.atan2(vector_norm, q[..., :1])
    scale = torch.where(
        vector_norm > 0, angle / vector_norm.clamp_min(torch.finfo(q.dtype).tiny), 2.0
    )
    return q[..., 1:] * scale


def rotation_vector_to_matrix(rotation_vector: Tensor) -> Tensor:
    """Rotation matrices ``(..., 3, 3)`` from rotation vectors ``(..., 3)`` (radians)."""
    angle = torch.linalg.vector_norm(rotation_vector, dim=-1, keepdim=True)
    half_sinc = 0.5 * torch.sinc(angle / (2.0 * torch.pi))
    quaternion = torch.cat([torch.cos(0.5 * angle), half_sinc * rotation_vector], dim=-1)
    return quaternion_to_matrix(quaternion)


def cap_rotation(rotation: Tensor, max_angle: float) -> Tensor:
    """Rotations ``(..., 3, 3)`` with their angle reduced to at most ``max_angle`` radians.

    A rotation by θ about the unit axis u becomes the rotation by min(θ, max_angle)
    about the same axis (its rotation vector is rescaled to norm ≤ ``max_angle``).
    """
    quaternion = matrix_to_quaternion(rotation)
    rotation_vector = quaternion_to_rotation_vector(quaternion)
    angle = torch.linalg.vector_norm(rotation_vector, dim=-1, keepdim=True)
    shrink = torch.where(angle > max_angle, max_angle / angle.clamp_min(max_angle), 1.0)
    return rotation_vector_to_matrix(rotation_vector * shrink)


def random_quaternions(
    count: int,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> Tensor:
    """``(count, 4)`` unit quaternions of rotations drawn from the Haar measure on SO(3).

    A normalised standard Gaussian 4-vector is uniform on the 3-sphere, and the
    3-sphere covers SO(3) twice with uniform density.
    """
    gaussian = torch.randn(count, 4, generator=generator, dtype=dtype, device=device)
    return gaussian / torch.linalg.vector_norm(gaussian, dim=-1, keepdim=True)
