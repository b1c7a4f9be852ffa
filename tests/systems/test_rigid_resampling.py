"""Rigid-body resampling: physical frames to exact samples of exp(−β(U + U_align)), rigid mode."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

import systems
from forcefields.errors import ConfigError, ShapeMismatchError
from forcefields.rotations import quaternion_to_matrix, random_quaternions, rotation_angle
from systems.reference.rigid_resampling import resample_rigid, rigid_pose

N_FRAMES = 4000


@pytest.fixture(scope="module")
def butane():
    return systems.load("butane")


@pytest.fixture(scope="module")
def frames(butane):
    """Noisy copies of the minimum, each in a random pose ``(N_FRAMES, 14, 3)`` nm."""
    rng = np.random.default_rng(0)
    x = butane.positions[None] + rng.normal(scale=0.005, size=(N_FRAMES, butane.n_atoms, 3))
    generator = torch.Generator().manual_seed(0)
    rotation = quaternion_to_matrix(random_quaternions(N_FRAMES, generator=generator)).numpy()
    return np.einsum("bij,bnj->bni", rotation, x) + rng.normal(size=(N_FRAMES, 1, 3))


@pytest.fixture(scope="module")
def resampled(butane, frames):
    return resample_rigid(butane, frames, seed=1)


def test_internal_energies_are_unchanged(butane, frames, resampled):
    energy = butane.energy(dtype=torch.float64)
    before = energy(torch.as_tensor(frames)).numpy()
    after = energy(torch.as_tensor(resampled)).numpy()
    assert resampled.shape == frames.shape and resampled.dtype == np.float64
    np.testing.assert_allclose(after, before, rtol=1e-11, atol=1e-9)


def test_the_pose_does_not_depend_on_the_input_pose(butane, frames, resampled):
    generator = torch.Generator().manual_seed(9)
    turn = quaternion_to_matrix(random_quaternions(1, generator=generator)).numpy()[0]
    moved = frames @ turn.T + 3.0
    again = resample_rigid(butane, torch.as_tensor(moved), seed=1)
    assert isinstance(again, torch.Tensor)
    np.testing.assert_allclose(again.numpy(), resampled, atol=1e-10)
    other_seed = resample_rigid(butane, frames, seed=2)
    assert np.abs(other_seed - resampled).max() > 1e-3


def test_barycentre_and_angle_follow_the_analytic_distributions(butane, resampled):
    pose = rigid_pose(butane)
    _, rotation, centre = pose.pose(torch.as_tensor(resampled))
    scale = 1.0 / math.sqrt(pose.translation_precision)
    for axis in range(3):
        assert stats.kstest(centre[:, axis].numpy() / scale, "norm").pvalue > 1e-3
    a = pose.rotation_precision

    def density(angle):
        return (1.0 - math.cos(angle)) * math.exp(-0.5 * a * angle**2)

    total = integrate.quad(density, 0.0, math.pi, epsrel=1e-12)[0]

    def cdf(values):
        return np.array([integrate.quad(density, 0.0, v, epsrel=1e-10)[0] / total for v in values])

    angles = rotation_angle(rotation).numpy()
    assert stats.kstest(angles[:1000], cdf).pvalue > 1e-3


def test_mean_penalty_matches_its_analytic_expectation(butane, resampled):
    """E[U_align] = 3/(2β) + (k_r/2) E[θ²], θ with density ∝ (1 − cos θ) exp(−β k_r θ²/2)."""
    penalty = butane.energy(align={"mode": "rigid", "atoms": "heavy"}).alignment
    values = penalty(torch.as_tensor(resampled)).numpy()
    beta, k_r = butane.beta, penalty.rotation_stiffness

    def density(angle, power=0):
        return angle**power * (1.0 - math.cos(angle)) * math.exp(-0.5 * beta * k_r * angle**2)

    mean_square_angle = (
        integrate.quad(density, 0.0, math.pi, args=(2,), epsrel=1e-12)[0]
        / integrate.quad(density, 0.0, math.pi, epsrel=1e-12)[0]
    )
    expected = 1.5 / beta + 0.5 * k_r * mean_square_angle
    standard_error = values.std() / math.sqrt(len(values))
    assert abs(values.mean() - expected) < 4.0 * standard_error
    assert standard_error < 0.02 * expected


def test_bad_input_raises(butane, frames):
    with pytest.raises(ShapeMismatchError):
        resample_rigid(butane, frames[:, :5])
    with pytest.raises(ConfigError):
        resample_rigid(butane, frames[:3], align_options={"mode": "thesis"})
