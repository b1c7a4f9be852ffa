"""Thesis App. A.2 (eq 87): mode populations under hydrogen minimisation, from frames."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import optimize, stats

import systems
from forcefields.errors import ConfigError, UnknownNameError
from forcefields.rotations import quaternion_to_matrix, random_quaternions
from systems.observables.geometry import dihedral
from systems.reference.hydrogen_kernels import (
    MAX_WIDTH,
    hydrogen_internal,
    hydrogen_zmatrix,
    isotropic_log_kernel,
)
from systems.reference.hydrogen_minimisation import minimise_hydrogens
from systems.reference.hydrogen_minimised_modes import (
    hydrogen_minimised_log_weights,
    hydrogen_minimised_populations,
    kish_effective_size,
    weighted_populations,
)

CARBONS = (3, 6, 9, 13)
C3_SIDE = [7, 8, 9, 10, 11, 12, 13]


@pytest.fixture(scope="module")
def butane():
    return systems.load("butane")


def butane_frames(system, n: int, seed: int, noise: float = 0.004) -> np.ndarray:
    """``(n, 14, 3)`` nm: the minimum turned to random C-C-C-C dihedrals, plus noise."""
    rng = np.random.default_rng(seed)
    x = np.repeat(system.positions[None], n, axis=0)
    b, c = x[0, CARBONS[1]], x[0, CARBONS[2]]
    axis = (c - b) / np.linalg.norm(c - b)
    for frame, angle in zip(x, rng.uniform(-math.pi, math.pi, n), strict=True):
        k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
        rotation = np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k
        frame[C3_SIDE] = (frame[C3_SIDE] - c) @ rotation.T + c
    return x + rng.normal(scale=noise, size=x.shape)


@pytest.fixture(scope="module")
def frames(butane):
    x = butane_frames(butane, 240, seed=0)
    minimised = minimise_hydrogens(butane.energy(), torch.as_tensor(x), butane.hydrogens)
    return x, minimised.numpy()


def test_weights_are_finite_and_populations_sum_to_one(butane, frames):
    x, minimised = frames
    for kernel, sigma in (("internal", None), ("isotropic", 0.02)):
        log_w = hydrogen_minimised_log_weights(
            butane, x, kernel=kernel, sigma=sigma, minimised=minimised
        )
        assert log_w.shape == (len(x),) and np.isfinite(log_w).all()
    table = hydrogen_minimised_populations(butane, x, minimised=minimised, chains=4)
    assert set(table) == set(butane.mode_names)
    assert sum(entry["mean"] for entry in table.values()) == pytest.approx(1.0, abs=1e-12)
    assert all(entry["mean"] > 0.0 and entry["sem"] > 0.0 for entry in table.values())


def test_populations_are_invariant_under_rigid_motions(butane, frames):
    x, _ = frames
    generator = torch.Generator().manual_seed(5)
    rotation = quaternion_to_matrix(random_quaternions(len(x), generator=generator)).numpy()
    moved = np.einsum("bij,bnj->bni", rotation, x) + np.random.default_rng(1).normal(
        size=(len(x), 1, 3)
    )
    log_w = hydrogen_minimised_log_weights(butane, x)
    log_w_moved = hydrogen_minimised_log_weights(butane, moved)
    # Minimisation stops at hydrogen forces below 1e-2 kJ/mol/nm, so the two minima
    # agree to ~1e-5 nm, not to round-off.
    np.testing.assert_allclose(log_w_moved, log_w, atol=1e-3)
    np.testing.assert_array_equal(butane.modes(moved), butane.modes(x))
    table = weighted_populations(log_w, butane.modes(x), butane.mode_names)
    table_moved = weighted_populations(log_w_moved, butane.modes(moved), butane.mode_names)
    for name in butane.mode_names:
        assert table_moved[name]["mean"] == pytest.approx(table[name]["mean"], abs=1e-4)


def _internal_numpy(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(r, θ, φ) per hydrogen, one frame ``(N, 3)``, plain numpy."""
    values = []
    for h, a, b, c in rows:
        bond, axis = x[h] - x[a], x[b] - x[a]
        r = np.linalg.norm(bond)
        theta = np.arccos(bond @ axis / (r * np.linalg.norm(axis)))
        values.append((r, theta, float(dihedral(x, h, a, b, c))))
    return np.array(values).reshape(-1)


def _brute_force_log_weight(system, energy, frame: np.ndarray, beta: float, sigma: float | None):
    """Eq 87's weight for one frame: scipy minimisation, Hessians by second differences."""
    hydrogens = system.hydrogens
    rows = hydrogen_zmatrix(system)

    def u(h_flat):
        y = frame.copy()
        y[hydrogens] = h_flat.reshape(-1, 3)
        return float(energy(torch.as_tensor(y[None]))[0])

    def u_and_gradient(h_flat):
        y = frame.copy()
        y[hydrogens] = h_flat.reshape(-1, 3)
        forces = energy.forces(torch.as_tensor(y[None]))[0, hydrogens].numpy()
        return u(h_flat), -forces.reshape(-1)

    start = frame[hydrogens].reshape(-1)
    result = optimize.minimize(
        u_and_gradient, start, jac=True, method="L-BFGS-B", options={"gtol": 1e-9, "ftol": 0}
    )
    h_star = result.x
    log_ratio = beta * (u(start) - u(h_star))
    if sigma is not None:
        k = len(start)
        return (
            log_ratio
            - ((start - h_star) ** 2).sum() / (2 * sigma**2)
            - k / 2 * math.log(2 * math.pi * sigma**2)
        )
    k, eps = len(start), 1e-4
    steps = np.eye(k) * eps
    signs = [(1, 1), (1, -1), (-1, 1), (-1, -1)]
    shifted = np.stack(
        [h_star + si * steps[:, None] + sj * steps[None, :] for si, sj in signs]
    )  # (4, k, k, k): energy second differences, every (i, j) pair in one batch
    many = np.repeat(frame[None], shifted[..., 0].size, axis=0)
    many[:, hydrogens] = shifted.reshape(-1, len(hydrogens), 3)
    values = energy(torch.as_tensor(many)).numpy().reshape(4, k, k)
    hessian = (values[0] - values[1] - values[2] + values[3]) / (4 * eps**2)
    star = frame.copy()
    star[hydrogens] = h_star.reshape(-1, 3)
    jacobian = np.zeros((k, k))  # ∂q/∂x^H, all hydrogens at once
    for j in range(k):
        plus, minus = star.copy(), star.copy()
        plus[hydrogens[j // 3], j % 3] += 1e-6
        minus[hydrogens[j // 3], j % 3] -= 1e-6
        jacobian[:, j] = (_internal_numpy(plus, rows) - _internal_numpy(minus, rows)) / 2e-6
    to_cartesian = np.linalg.inv(jacobian)
    precision = beta * to_cartesian.T @ hessian @ to_cartesian
    delta = _internal_numpy(frame, rows) - _internal_numpy(star, rows)
    delta[2::3] = (delta[2::3] + math.pi) % (2 * math.pi) - math.pi
    q = _internal_numpy(frame, rows).reshape(-1, 3)
    # Cartesian kernel = internal Gaussian times |det ∂q/∂x^H| at the frame, here by differences.
    frame_jacobian = np.zeros((k, k))
    for j in range(k):
        plus, minus = frame.copy(), frame.copy()
        plus[hydrogens[j // 3], j % 3] += 1e-6
        minus[hydrogens[j // 3], j % 3] -= 1e-6
        frame_jacobian[:, j] = (_internal_numpy(plus, rows) - _internal_numpy(minus, rows)) / 2e-6
    log_det_frame = np.linalg.slogdet(frame_jacobian)[1]
    assert log_det_frame == pytest.approx(-np.log(q[:, 0] ** 2 * np.sin(q[:, 1])).sum(), abs=1e-5)
    eigenvalues, vectors = np.linalg.eigh(precision)
    assert eigenvalues.min() < 1.0 / MAX_WIDTH**2  # butane's methyl rotors: floored
    eigenvalues = np.maximum(eigenvalues, 1.0 / MAX_WIDTH**2)
    precision = vectors @ np.diag(eigenvalues) @ vectors.T
    log_gaussian = (
        -0.5 * delta @ precision @ delta + 0.5 * np.linalg.slogdet(precision / (2 * math.pi))[1]
    )
    return log_ratio + log_gaussian + log_det_frame


@pytest.mark.parametrize("sigma", [None, 0.01])
def test_weights_match_a_brute_force_evaluation_of_eq_87(butane, sigma):
    x = butane_frames(butane, 3, seed=7)
    energy = butane.energy()
    kernel = "internal" if sigma is None else "isotropic"
    log_w = hydrogen_minimised_log_weights(butane, x, kernel=kernel, sigma=sigma, tolerance=1e-6)
    expected = [_brute_force_log_weight(butane, energy, f, butane.beta, sigma) for f in x]
    np.testing.assert_allclose(log_w, expected, atol=2e-4)
    labels = butane.modes(x)
    with pytest.warns(RuntimeWarning, match="Kish"):  # 3 frames
        table = weighted_populations(log_w, labels, butane.mode_names, inefficiency=1.0)
    w = np.exp(np.array(expected) - max(expected))
    for mode, name in enumerate(butane.mode_names):
        assert table[name]["mean"] == pytest.approx(w[labels == mode].sum() / w.sum(), abs=1e-3)


def test_internal_coordinates_agree_with_numpy(butane, frames):
    x, _ = frames
    rows = hydrogen_zmatrix(butane)
    q = hydrogen_internal(torch.as_tensor(x[:5]), torch.as_tensor(rows)).numpy()
    expected = np.stack([_internal_numpy(f, rows) for f in x[:5]]).reshape(q.shape)
    np.testing.assert_allclose(q, expected, atol=1e-12)


def test_eq_87_recovers_the_minimised_target_on_a_model_with_known_answer():
    """One heavy coordinate s, one 3-D hydrogen: βU = s²/2 + (e^{s/2}/2)|h|² (β = 1).

    Physical marginal of s: N(−0.75, 1), so P(s > 0) = Φ(−0.75) ≈ 0.227; minimised
    target exp(−s²/2): N(0, 1), P̄(s > 0) = 1/2. Exact i.i.d. samples, two kernel widths.
    """
    rng = np.random.default_rng(3)
    n = 20_000
    s = rng.normal(-0.75, 1.0, n)
    h = rng.normal(size=(n, 3)) * np.exp(-s / 4)[:, None]
    x = np.zeros((n, 2, 3))
    x[:, 0, 0], x[:, 1] = s, h
    centre = x.copy()
    centre[:, 1] = 0.0
    log_ratio = 0.5 * np.exp(s / 2) * (h**2).sum(-1)
    labels = (s > 0).astype(int)
    for sigma in (0.3, 0.45):
        log_kernel = isotropic_log_kernel(
            torch.as_tensor(x), torch.as_tensor(centre), torch.tensor([1]), sigma
        )
        log_w = log_ratio + log_kernel.numpy()
        table = weighted_populations(log_w, labels, ("low", "high"), inefficiency=1.0)
        assert kish_effective_size(log_w) > 500
        assert abs(table["high"]["mean"] - 0.5) < 4 * table["high"]["sem"]
    raw = weighted_populations(np.zeros(n), labels, ("low", "high"))["high"]
    assert abs(raw["mean"] - stats.norm.cdf(-0.75)) < 4 * raw["sem"]


def test_bad_options_raise(butane, frames):
    x, minimised = frames
    with pytest.raises(UnknownNameError):
        hydrogen_minimised_log_weights(butane, x[:2], kernel="laplace", minimised=minimised[:2])
    with pytest.raises(ConfigError):
        hydrogen_minimised_log_weights(butane, x[:2], kernel="isotropic", minimised=minimised[:2])
    with pytest.raises(ConfigError):
        weighted_populations(np.zeros(3), np.array([0, 1, 3]), butane.mode_names)
    with pytest.warns(RuntimeWarning, match="Kish"):
        weighted_populations(np.array([0.0, 50.0, 0.0]), np.array([0, 1, 2]), butane.mode_names)
