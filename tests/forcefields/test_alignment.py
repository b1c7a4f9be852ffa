"""Tests of the alignment penalty, its rotation helpers and its rigid-motion integral."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.spatial.transform import Rotation

from forcefields.alignment import THESIS_ALIGNMENT_WEIGHT, AlignmentPenalty
from forcefields.errors import (
    ConfigError,
    NonFiniteCoordinatesError,
    ShapeMismatchError,
    UnknownNameError,
)
from forcefields.rotations import (
    cap_rotation,
    kabsch_rotation,
    matrix_to_quaternion,
    quaternion_to_matrix,
    random_quaternions,
    rotation_angle,
)
from forcefields.units import beta_from_temperature

BETA = beta_from_temperature(300.0)
ROUND_OFF = 1e-10
"""float64 agreement of two exact computations of the same O(1) quantity."""


def _cloud(n_atoms: int, seed: int, scale: float = 0.15) -> torch.Tensor:
    """Random molecule-sized point cloud ``(n_atoms, 3)`` in nm."""
    generator = np.random.default_rng(seed)
    return torch.from_numpy(scale * generator.standard_normal((n_atoms, 3)))


def _centred(points: torch.Tensor) -> torch.Tensor:
    return points - points.mean(dim=0)


def _rotation(rotation_vector: list[float]) -> torch.Tensor:
    return torch.from_numpy(Rotation.from_rotvec(rotation_vector).as_matrix())


# --- rotation helpers against scipy (an independent implementation) -------------------


@pytest.mark.parametrize("mirror", [False, True])
def test_kabsch_matches_scipy_align_vectors(mirror: bool) -> None:
    generator = np.random.default_rng(1)
    for seed in range(5):
        reference = _centred(_cloud(9, seed))
        points = _cloud(9, 100 + seed) + reference @ _rotation(generator.normal(size=3)).T
        if mirror:  # a reflected cloud: the unconstrained SVD optimum has det = -1
            points = -points
        points = _centred(points)
        weights = torch.from_numpy(generator.uniform(0.5, 2.0, 9))
        ours = kabsch_rotation(points[None], reference, weights)[0]
        scipy_rotation, _ = Rotation.align_vectors(
            reference.numpy(), points.numpy(), weights=weights.numpy()
        )
        torch.testing.assert_close(
            ours, torch.from_numpy(scipy_rotation.as_matrix()), atol=ROUND_OFF, rtol=0
        )
        assert torch.linalg.det(ours).item() == pytest.approx(1.0, abs=ROUND_OFF)


def test_quaternion_and_angle_match_scipy_at_all_angles() -> None:
    rotations = Rotation.random(200, random_state=3)
    half_turns = Rotation.from_rotvec(np.pi * np.eye(3))  # Shepperd branches at 180°
    rotations = Rotation.concatenate([rotations, half_turns, Rotation.identity()])
    matrices = torch.from_numpy(rotations.as_matrix())
    quaternions = matrix_to_quaternion(matrices)
    expected = np.roll(rotations.as_quat(canonical=True), 1, axis=-1)  # scalar first
    # q and -q are the same rotation; at 180° scipy and we may pick opposite signs.
    sign = np.sign((quaternions.numpy() * expected).sum(-1, keepdims=True))
    np.testing.assert_allclose(quaternions.numpy() * sign, expected, atol=ROUND_OFF)
    torch.testing.assert_close(quaternion_to_matrix(quaternions), matrices, atol=ROUND_OFF, rtol=0)
    torch.testing.assert_close(
        rotation_angle(matrices), torch.from_numpy(rotations.magnitude()), atol=1e-7, rtol=0
    )  # atan2 keeps ~1e-8 accuracy at 180° where sin θ is computed from round-off


def test_cap_rotation_keeps_axis_and_caps_angle() -> None:
    rotation_vectors = Rotation.random(100, random_state=4).as_rotvec()
    capped = cap_rotation(torch.from_numpy(Rotation.from_rotvec(rotation_vectors).as_matrix()), 1.0)
    capped_vectors = Rotation.from_matrix(capped.numpy()).as_rotvec()
    angles = np.linalg.norm(rotation_vectors, axis=-1, keepdims=True)
    expected = rotation_vectors * np.minimum(1.0, 1.0 / angles)
    np.testing.assert_allclose(capped_vectors, expected, atol=ROUND_OFF)


def test_random_quaternions_are_haar_distributed() -> None:
    generator = torch.Generator().manual_seed(5)
    angles = rotation_angle(quaternion_to_matrix(random_quaternions(20000, generator=generator)))
    # Haar measure: the rotation angle has density (1 - cos θ)/π on [0, π].
    result = stats.kstest(angles.numpy(), lambda t: (t - np.sin(t)) / np.pi)
    assert result.pvalue > 1e-3  # fails for a non-uniform sampler (e.g. uniform rotation vectors)


# --- thesis mode -----------------------------------------------------------------------


def test_thesis_weight_is_ten_kcal_per_mol_per_square_angstrom() -> None:
    assert THESIS_ALIGNMENT_WEIGHT == pytest.approx(4184.0, rel=1e-12)


def test_thesis_penalty_is_zero_for_a_centred_frame_in_reference_orientation() -> None:
    reference = _cloud(10, 0) + 0.7  # not centred: the penalty centres it
    penalty = AlignmentPenalty(reference)
    centred = _centred(reference)[None]
    assert penalty(centred).item() == pytest.approx(0.0, abs=1e-20)
    # Another shape whose Kabsch orientation is the reference's: x = r + ε r (scaled).
    assert penalty(1.1 * centred).item() == pytest.approx(0.0, abs=1e-20)


def test_thesis_penalty_of_a_rigid_motion_below_the_cap() -> None:
    reference = _centred(_cloud(10, 1))
    penalty = AlignmentPenalty(reference, weight=7.0)
    rotation = _rotation([0.3, -0.4, 0.5])  # angle 0.71 rad < π/3: the cap is not hit
    shift = torch.tensor([0.2, -0.1, 0.4], dtype=torch.float64)
    moved = reference @ rotation.T + shift
    # x_aligned is exactly the reference, so U = λ Σ |x_i - r_i|².
    expected = 7.0 * (moved - reference).square().sum()
    assert penalty(moved[None]).item() == pytest.approx(expected.item(), rel=ROUND_OFF)


def test_thesis_cap_leaves_exactly_the_excess_rotation() -> None:
    reference = _centred(_cloud(12, 2))
    penalty = AlignmentPenalty(reference)
    axis = np.array([1.0, 2.0, -2.0]) / 3.0
    moved = reference @ _rotation(list(2 * np.pi / 3 * axis)).T
    aligned = penalty.aligned(moved[None])[0]
    residual, _ = Rotation.align_vectors(aligned.numpy(), reference.numpy())
    assert residual.magnitude() == pytest.approx(np.pi / 3, abs=ROUND_OFF)
    np.testing.assert_allclose(residual.as_rotvec() / (np.pi / 3), axis, atol=1e-9)
    expected = THESIS_ALIGNMENT_WEIGHT * (moved - aligned).square().sum()
    assert penalty(moved[None]).item() == pytest.approx(expected.item(), rel=ROUND_OFF)


def test_thesis_gradient_is_the_pull_toward_the_detached_target() -> None:
    reference = _cloud(8, 3)
    atoms = torch.tensor([0, 2, 3, 5, 7])
    penalty = AlignmentPenalty(reference, atoms=atoms, weight=3.0)
    x = (reference @ _rotation([1.5, 0.5, -0.3]).T + 0.3 + 0.02 * _cloud(8, 4))[None]
    x.requires_grad_(True)
    penalty(x).sum().backward()
    expected = torch.zeros_like(x)
    expected[:, atoms] = 2.0 * 3.0 * (x.detach()[:, atoms] - penalty.aligned(x))
    assert torch.isfinite(x.grad).all()
    torch.testing.assert_close(x.grad, expected, atol=ROUND_OFF, rtol=0)


def test_unselected_atoms_do_not_enter() -> None:
    reference = _cloud(8, 5)
    penalty = AlignmentPenalty(reference, atoms=torch.tensor([1, 2, 4, 6]))
    x = _cloud(8, 6)[None]
    moved = x.clone()
    moved[0, [0, 3, 5, 7]] += 5.0
    assert penalty(moved).item() == pytest.approx(penalty(x).item(), rel=ROUND_OFF)


def test_mass_weighted_centre() -> None:
    reference = _cloud(6, 7)
    masses = torch.tensor([12.0, 1.0, 1.0, 16.0, 14.0, 1.0], dtype=torch.float64)
    penalty = AlignmentPenalty(reference, masses=masses)
    centre_of_mass = (masses[:, None] * reference).sum(0) / masses.sum()
    assert penalty((reference - centre_of_mass)[None]).item() == pytest.approx(0.0, abs=1e-20)
    assert penalty(_centred(reference)[None]).item() > 1e-3  # the plain centre is off


@pytest.mark.parametrize("mode", ["thesis", "rigid"])
def test_batch_equals_frames_and_float32_matches_float64(mode: str) -> None:
    reference = _cloud(10, 8)
    penalty = AlignmentPenalty(reference, mode=mode, weight=50.0)
    frames = torch.stack(
        [_cloud(10, 10 + i) + reference @ _rotation([0.9 * i, 0.2, -0.1]).T for i in range(6)]
    )
    batched = penalty(frames)
    one_by_one = torch.cat([penalty(frame[None]) for frame in frames])
    torch.testing.assert_close(batched, one_by_one, atol=0, rtol=ROUND_OFF)
    # float32 carries ~1e-7 relative round-off through an SVD of a well-conditioned 3x3
    # matrix; 1e-4 leaves margin for rotations near the cap.
    torch.testing.assert_close(penalty(frames.float()).double(), batched, rtol=1e-4, atol=1e-4)


# --- rigid mode ------------------------------------------------------------------------


def test_rigid_penalty_of_known_rigid_motions() -> None:
    reference = _cloud(10, 9) - 0.5
    penalty = AlignmentPenalty(
        reference, mode="rigid", translation_stiffness=3.0, rotation_stiffness=5.0
    )
    for rotation_vector in ([0.0, 0.0, 0.0], [0.3, -1.2, 0.4], [0.0, 3.0, 0.0]):
        shift = torch.tensor([0.1, 0.2, -0.3], dtype=torch.float64)
        moved = _centred(reference) @ _rotation(rotation_vector).T + shift
        angle = np.linalg.norm(rotation_vector)
        expected = 0.5 * 3.0 * shift.square().sum().item() + 0.5 * 5.0 * angle**2
        assert penalty(moved[None]).item() == pytest.approx(expected, rel=ROUND_OFF, abs=1e-20)


def test_rigid_gradient_matches_finite_differences_at_and_near_the_reference() -> None:
    reference = _centred(_cloud(10, 10))
    penalty = AlignmentPenalty(reference, mode="rigid", weight=1.0)
    at_minimum = reference[None].clone().requires_grad_(True)
    penalty(at_minimum).sum().backward()
    # At the minimum the exact gradient is 0; what remains is SVD round-off times k_r.
    assert at_minimum.grad.abs().max().item() < 1e-10
    frames = torch.stack(
        [reference @ _rotation(v).T + 0.01 for v in ([1e-9, 0, 0], [0, 1e-4, 0], [0.5, 2.0, 0])]
    )
    # gradcheck compares autograd with central differences (float64, its default tolerances).
    assert torch.autograd.gradcheck(penalty, (frames.requires_grad_(True),))


def _monte_carlo_log_z(
    penalty: AlignmentPenalty, shape: torch.Tensor, translation_scale: float, seed: int
) -> tuple[float, float]:
    """Brute-force log ∫ exp(-βU(R x + t)) dR dt and its standard error.

    R is drawn uniformly by scipy, t from N(0, s² I) and reweighted by its density.
    """
    n_samples = 40000
    rng = np.random.default_rng(seed)
    rotations = torch.from_numpy(Rotation.random(n_samples, random_state=seed).as_matrix())
    shifts = translation_scale * rng.standard_normal((n_samples, 3))
    frames = shape @ rotations.mT + torch.from_numpy(shifts)[:, None, :]
    log_shift_density = -0.5 * (shifts**2).sum(-1) / translation_scale**2 - 1.5 * np.log(
        2 * np.pi * translation_scale**2
    )
    log_terms = -BETA * penalty(frames).numpy() - log_shift_density
    peak = log_terms.max()
    terms = np.exp(log_terms - peak)
    return peak + np.log(terms.mean()), terms.std() / terms.mean() / np.sqrt(n_samples)


def test_rigid_log_z_is_the_same_constant_for_every_shape() -> None:
    reference = _cloud(8, 11)
    penalty = AlignmentPenalty(
        reference, mode="rigid", translation_stiffness=20.0, rotation_stiffness=4.0 / BETA
    )
    shapes = torch.stack([_cloud(8, 20 + seed, scale=0.05 + 0.1 * seed) for seed in range(4)])
    analytic = penalty.log_z_align(shapes, BETA)
    assert torch.all(analytic == analytic[0])
    for seed, shape in enumerate(shapes):
        estimate, error = _monte_carlo_log_z(penalty, shape, 1.5 / math.sqrt(BETA * 20.0), seed)
        assert abs(estimate - analytic[0].item()) < 4.0 * error  # 4 standard errors


def _thesis_log_z_by_quadrature(shape: torch.Tensor, beta: float, weight: float) -> float:
    """Independent value of log Z for the thesis penalty (plain centre, all atoms).

    For an aligned shape y0 and a rotation P by θ about u, the capped Kabsch
    rotation undoes min(θ, π/3) about u, so the translation-minimised penalty is
    2λ(1 - cos min(θ, π/3)) uᵀJu with J = Σ(|s|² I - s sᵀ); translations add the
    Gaussian factor (π/(βλn))^{3/2}. Quadrature: Gauss-Legendre in θ and cos(polar),
    trapezoid in azimuth, with the Haar density (1 - cos θ)/π and uniform axes.
    """
    spread = shape.numpy() - shape.numpy().mean(0)
    inertia = (spread**2).sum() * np.eye(3) - spread.T @ spread
    moments = np.linalg.eigvalsh(inertia)
    cos_polar, polar_weights = np.polynomial.legendre.leggauss(96)
    azimuth = np.linspace(0.0, 2 * np.pi, 128, endpoint=False)
    sin_polar = np.sqrt(1 - cos_polar**2)[:, None]
    axes = np.stack(
        [sin_polar * np.cos(azimuth), sin_polar * np.sin(azimuth), cos_polar[:, None] + 0 * azimuth]
    )
    quadratic = np.einsum("k,kij->ij", moments, axes**2)

    def sphere_average(factor: np.ndarray) -> np.ndarray:
        values = np.exp(-beta * weight * factor[:, None, None] * quadratic)
        return 0.5 * (values.mean(-1) * polar_weights).sum(-1)

    nodes, node_weights = np.polynomial.legendre.leggauss(400)
    angles = (nodes + 1) * np.pi / 6
    capped = (
        (np.pi / 6)
        * (node_weights * (1 - np.cos(angles)) / np.pi)
        @ sphere_average(2 * (1 - np.cos(angles)))
    )
    beyond_cap = (2 / 3 + np.sqrt(3) / (2 * np.pi)) * sphere_average(np.ones(1))[0]
    n_atoms = shape.shape[0]
    return 1.5 * np.log(np.pi / (beta * weight * n_atoms)) + np.log(capped + beyond_cap)


@pytest.mark.parametrize("weight", [THESIS_ALIGNMENT_WEIGHT, 2.0])
def test_thesis_log_z_matches_quadrature(weight: float) -> None:
    reference = _cloud(14, 12)
    penalty = AlignmentPenalty(reference, weight=weight)
    shapes = torch.stack([_cloud(14, 30 + seed, scale=0.1 + 0.05 * seed) for seed in range(3)])
    estimates = penalty.log_z_align(shapes, BETA, 8192, torch.Generator().manual_seed(0))
    exact = [_thesis_log_z_by_quadrature(shape, BETA, weight) for shape in shapes]
    # Importance weights are bounded by 10 and the effective sample size is above ~0.3·M,
    # so the standard error of log Z is below ~0.02; 0.05 is ~2.5 such errors and far
    # smaller than the shape dependence being tested (differences of order 1).
    np.testing.assert_allclose(estimates.numpy(), exact, atol=0.05)
    assert max(exact) - min(exact) > 0.5


def test_thesis_log_z_depends_on_shape_only_and_not_on_the_batch() -> None:
    penalty = AlignmentPenalty(_cloud(10, 17))
    shapes = torch.stack([_cloud(10, 50 + seed) for seed in range(3)])
    moved = shapes @ _rotation([2.0, -1.0, 0.5]).T + torch.tensor([0.3, 0.1, -2.0])
    batched = penalty.log_z_align(shapes, BETA, 1024, torch.Generator().manual_seed(3))
    # The same draws serve every frame, so results agree to round-off: frame by frame,
    # and after a rigid motion of every frame (the inertia moments are invariant).
    alone = penalty.log_z_align(shapes[1:2], BETA, 1024, torch.Generator().manual_seed(3))
    after_motion = penalty.log_z_align(moved, BETA, 1024, torch.Generator().manual_seed(3))
    assert alone.item() == pytest.approx(batched[1].item(), abs=ROUND_OFF)
    torch.testing.assert_close(after_motion, batched, atol=ROUND_OFF, rtol=0)


@pytest.mark.parametrize("weighted", [False, True])
def test_thesis_log_z_matches_brute_force_monte_carlo(weighted: bool) -> None:
    reference = _cloud(8, 13)
    weight = 3.0 / BETA  # soft enough for uniform rotations to sample the integrand
    options = {}
    if weighted:  # mass-weighted centre and fit on a subset of atoms
        options = {"masses": torch.linspace(1.0, 16.0, 8), "atoms": torch.tensor([0, 2, 3, 5, 6])}
    penalty = AlignmentPenalty(reference, weight=weight, **options)
    shape = _cloud(8, 14, scale=0.2)
    estimate = penalty.log_z_align(shape[None], BETA, 16384, torch.Generator().manual_seed(1))
    n_selected = 5 if weighted else 8
    translation_scale = 1.0 / math.sqrt(BETA * weight * n_selected)
    brute, error = _monte_carlo_log_z(penalty, shape, translation_scale, 2)
    assert abs(estimate.item() - brute) < 4.0 * error + 0.05  # see test above for 0.05


# --- bad input -------------------------------------------------------------------------


def test_bad_input_raises_typed_errors() -> None:
    reference = _cloud(5, 15)
    with pytest.raises(UnknownNameError):
        AlignmentPenalty(reference, mode="kabsch")
    with pytest.raises(ConfigError):
        AlignmentPenalty(reference, atoms=torch.tensor([0, 1]))
    with pytest.raises(ConfigError):
        AlignmentPenalty(torch.arange(15.0).reshape(5, 3))  # collinear atoms
    with pytest.raises(ShapeMismatchError):
        AlignmentPenalty(reference)(torch.zeros(2, 4, 3, dtype=torch.float64))
    with pytest.raises(ConfigError):
        AlignmentPenalty(reference, weight=0.0).log_z_align(reference[None], BETA)


@pytest.mark.parametrize("mode", ["thesis", "rigid"])
def test_non_finite_coordinates_are_a_typed_error_naming_the_frame(mode: str) -> None:
    # Used to surface as torch's untyped _LinAlgError from the SVD / eigh.
    reference = _cloud(5, 17)
    penalty = AlignmentPenalty(reference, mode=mode)
    frames = torch.stack([reference, reference, reference])
    frames[2, 3, 1] = math.nan
    for call in (penalty, penalty.aligned, penalty.pose, lambda x: penalty.log_z_align(x, BETA)):
        with pytest.raises(NonFiniteCoordinatesError, match=r"frame\(s\) \[2\]"):
            call(frames)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("mode", ["thesis", "rigid"])
def test_cuda_matches_cpu(mode: str) -> None:
    reference = _cloud(10, 16)
    penalty = AlignmentPenalty(reference, mode=mode)
    frames = torch.stack([_cloud(10, 40 + i) + reference for i in range(4)])
    on_device = penalty.to("cuda")(frames.cuda().requires_grad_(True))
    on_device.sum().backward()
    torch.testing.assert_close(on_device.cpu(), penalty.cpu()(frames), rtol=1e-9, atol=1e-9)


def _centred(x: torch.Tensor) -> torch.Tensor:
    return x - x.mean(dim=-2, keepdim=True)


@pytest.mark.parametrize("mirrored", [False, True])
def test_kabsch_gradient_matches_finite_differences(mirrored):
    # float64 central differences against the polar-factor gradient, for a generic cloud
    # and for a mirror image (det-sign correction active)
    reference = _centred(_cloud(6, seed=3))
    sign = -1.0 if mirrored else 1.0
    points = (sign * reference + 0.05 * _cloud(6, seed=4)).unsqueeze(0).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: kabsch_rotation(_centred(x), reference), (points,))


def test_rigid_penalty_gradient_is_finite_for_a_symmetric_selection():
    # An equilateral triangle has two equal principal moments; autograd through the SVD
    # divided by their difference and returned NaN although the penalty is smooth there.
    side = 0.15
    triangle = torch.tensor(
        [[0.0, 0.0, 0.0], [side, 0.0, 0.0], [side / 2, side * math.sqrt(3) / 2, 0.0]],
        dtype=torch.float64,
    )
    penalty = AlignmentPenalty(triangle, mode="rigid")
    for moved in (triangle + 0.01, triangle @ _rotation_about_z(0.3).mT):
        x = moved.unsqueeze(0).requires_grad_(True)
        (gradient,) = torch.autograd.grad(penalty(x).sum(), x)
        assert torch.isfinite(gradient).all()
    assert torch.autograd.gradcheck(
        lambda x: kabsch_rotation(_centred(x), _centred(triangle)),
        ((triangle @ _rotation_about_z(0.3).mT).unsqueeze(0).requires_grad_(True),),
    )


def _rotation_about_z(angle: float) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    return torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
