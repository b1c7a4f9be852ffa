"""Exact pose draws and density of the ``rigid`` alignment penalty."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from forcefields.alignment import AlignmentPenalty
from forcefields.errors import ConfigError
from forcefields.rigid_pose import RigidPose
from forcefields.rotations import quaternion_to_matrix, random_quaternions, rotation_angle

REFERENCE = torch.tensor(
    [[0.0, 0.0, 0.0], [0.15, 0.0, 0.0], [0.2, 0.14, 0.0], [0.1, 0.2, 0.12]], dtype=torch.float64
)


def _pose(weight: float = 4.0, beta: float = 0.4) -> RigidPose:
    return RigidPose(AlignmentPenalty(REFERENCE, mode="rigid", weight=weight), beta)


@pytest.mark.parametrize("weight", [0.05, 4.0, 400.0])
def test_drawn_angles_follow_the_exact_distribution(weight):
    pose = _pose(weight)
    z = torch.randn(40_000, 7, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    rotation, _ = pose.from_latent(z)
    angles = rotation_angle(rotation).numpy()
    a = pose.rotation_precision

    def density(angle):
        return (1.0 - math.cos(angle)) / math.pi * math.exp(-0.5 * a * angle**2)

    total = integrate.quad(density, 0.0, math.pi, epsrel=1e-12)[0]

    def cdf(values):
        return np.array([integrate.quad(density, 0.0, v, epsrel=1e-10)[0] / total for v in values])

    # Kolmogorov–Smirnov at 40,000 draws: a p-value below 1e-3 would mean a wrong sampler.
    assert stats.kstest(angles[:4000], cdf).pvalue > 1e-3


def test_rotation_density_integrates_to_one_over_haar():
    pose = _pose(weight=0.05)
    quaternions = random_quaternions(200_000, generator=torch.Generator().manual_seed(2))
    rotations = quaternion_to_matrix(quaternions)
    translations = torch.zeros(len(rotations), 3, dtype=torch.float64)
    log_translation_at_zero = 1.5 * math.log(pose.translation_precision / (2.0 * math.pi))
    density = torch.exp(pose.log_prob(rotations, translations) - log_translation_at_zero)
    standard_error = float(density.std()) / math.sqrt(len(density))
    # Monte Carlo mean of the rotation density over Haar draws is 1 (5 standard errors).
    assert abs(float(density.mean()) - 1.0) < 5.0 * standard_error


def test_translation_is_gaussian_with_the_penalty_variance():
    pose = _pose()
    z = torch.randn(50_000, 7, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    _, translation = pose.from_latent(z)
    variance = 1.0 / (0.4 * pose.penalty.translation_stiffness)
    # Sample variance of 150,000 numbers: relative standard error sqrt(2/150000) ≈ 0.004.
    assert float(translation.var()) == pytest.approx(variance, rel=0.02)


def test_pose_of_a_moved_shape_recovers_the_motion():
    pose = _pose()
    x = (REFERENCE + 0.01 * torch.randn(5, 4, 3, dtype=torch.float64)).clone()
    shape = pose.aligned(x)
    rotation, translation = pose.from_latent(torch.randn(5, 7, dtype=torch.float64))
    moved = shape @ rotation.mT + translation[:, None]
    recovered_shape, recovered_rotation, recovered_translation = pose.pose(moved)
    assert torch.allclose(recovered_rotation, rotation, rtol=0, atol=1e-10)
    assert torch.allclose(recovered_translation, translation, rtol=0, atol=1e-12)
    assert torch.allclose(recovered_shape, shape, rtol=0, atol=1e-12)
    penalty = pose.penalty(moved)
    expected = 0.5 * pose.penalty.translation_stiffness * translation.square().sum(-1)
    expected = expected + 0.5 * pose.penalty.rotation_stiffness * rotation_angle(rotation) ** 2
    assert torch.allclose(penalty, expected, rtol=1e-9)


def test_thesis_mode_is_refused():
    with pytest.raises(ConfigError, match="rigid"):
        RigidPose(AlignmentPenalty(REFERENCE, mode="thesis"), 0.4)
