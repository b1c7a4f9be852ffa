"""Alignment penalty U_align on rigid-body motions, and its rigid-motion partition function.

A molecule in vacuum has six flat directions (translations and rotations). The
penalty pins them near a reference frame, centred at the origin, so that a flow
need not learn them. Two modes are offered (DESIGN.md, key decision 3):

``thesis``
    ``U = λ Σ_i |x_i - x_aligned,i|²`` (thesis §2.4, eq 8) over the selected atoms,
    where ``x_aligned`` is ``x`` centred at the origin and rotated toward the
    reference by the Kabsch rotation with its angle capped at ``max_angle``.
    ``x_aligned`` is a constant target (no gradient flows through it), as in the
    thesis, which computed it with scipy.
``rigid``
    ``U = (k_t/2) |c(x)|² + (k_r/2) θ(x)²``, a function of the rigid-body transform
    alone: ``c`` is the barycentre of the selected atoms and ``θ`` the angle of the
    optimal (uncapped) Kabsch rotation between the reference and ``x``. Its integral
    over rigid motions is the same for every shape, so internal coordinates keep
    their Boltzmann marginal.

``log_z_align(x, beta)`` gives ``log ∫ exp(-β U(g·x)) dg`` over rigid motions
``g·x = R x + t``, with the Haar measure on SO(3) normalised to 1 and the Lebesgue
measure on translations (nm³). Under ``exp(-β(U_B + U_align))`` a shape is
weighted by ``exp(-β U_B) Z_align(shape)``, so physical averages of invariant
observables are recovered with the importance weights ``exp(-log_z_align)``.
"""

from __future__ import annotations

import math

import torch
from scipy import integrate
from torch import Tensor, nn

from forcefields.errors import (
    ConfigError,
    NonFiniteCoordinatesError,
    ShapeMismatchError,
    UnknownNameError,
)
from forcefields.rotations import (
    cap_rotation,
    kabsch_rotation,
    quaternion_to_rotation_vector,
    random_quaternions,
    rotation_angle,
)
from forcefields.units import ANGSTROM_TO_NM, KCAL_TO_KJ

__all__ = [
    "AlignmentPenalty",
    "ALIGNMENT_MODES",
    "THESIS_ALIGNMENT_WEIGHT",
    "rotation_angle_integral",
]

ALIGNMENT_MODES = ("thesis", "rigid")

THESIS_ALIGNMENT_WEIGHT = 10.0 * KCAL_TO_KJ / ANGSTROM_TO_NM**2
"""λ_align = 10 kcal/mol/Å² (thesis fn 18) = 10 · 4.184 / 0.1² = 4184 kJ/mol/nm²."""

_HAAR_FRACTION = 0.1
"""Share of Monte Carlo rotations drawn uniformly on SO(3); bounds every weight by 10."""

_PROPOSAL_WIDTH = 1.5
"""Gaussian proposal width relative to the penalty's harmonic width at the optimum."""

_MAX_PROPOSAL_VARIANCE = (math.pi / 2) ** 2
"""Largest variance (rad²) of the Gaussian proposal along an almost free rotation axis."""

_ROTATIONS_PER_CHUNK = 2**16
"""Sampled rotations held at once by ``log_z_align`` (bounds memory)."""


class AlignmentPenalty(nn.Module):
    """Penalty on the rigid-body pose of ``x`` relative to a reference frame.

    References:
        L. Felardos, *Data-free Generation of Molecular Configurations with
        Normalizing Flows*, PhD thesis, 2022, §2.4, eqs 6-8 (``thesis`` mode).

    Arguments:
        reference: ``(N, 3)`` reference coordinates in nm (usually an energy
            minimum). Only its selected atoms matter; it is centred internally.
        mode: ``"thesis"`` or ``"rigid"`` (see the module docstring).
        weight: λ in kJ/mol/nm². Default: the thesis's 10 kcal/mol/Å² = 4184
            kJ/mol/nm². In ``rigid`` mode it only sets the default stiffnesses.
        atoms: indices of the atoms entering the penalty; ``None`` selects all.
            At least three atoms, not all on one line.
        max_angle: cap in radians on the rotation applied to build ``x_aligned``
            (``thesis`` mode), in (0, π].
        masses: ``(N,)`` masses in dalton. Given, the barycentre and the Kabsch fit
            are mass-weighted; ``None`` weighs every selected atom equally. The
            penalty itself is an unweighted sum of squared displacements in both
            cases, as in the thesis.
        translation_stiffness: ``k_t`` in kJ/mol/nm² (``rigid`` mode). Default
            ``2 λ n``, the curvature of the ``thesis`` penalty along a translation
            (``n`` selected atoms).
        rotation_stiffness: ``k_r`` in kJ/mol/rad² (``rigid`` mode). Default
            ``(4/3) λ Σ_i |r_i - r̄|²``, the curvature of the ``thesis`` penalty
            along a rotation of the reference, averaged over rotation axes.

    Example:
        >>> reference = torch.tensor([[0.0, 0.0, 0.0], [0.15, 0.0, 0.0], [0.2, 0.14, 0.0]])
        >>> penalty = AlignmentPenalty(reference, mode="thesis")
        >>> penalty(reference[None] + 0.1).shape
        torch.Size([1])
    """

    def __init__(
        self,
        reference: Tensor,
        mode: str = "thesis",
        weight: float = THESIS_ALIGNMENT_WEIGHT,
        atoms: Tensor | None = None,
        max_angle: float = math.pi / 3,
        masses: Tensor | None = None,
        *,
        translation_stiffness: float | None = None,
        rotation_stiffness: float | None = None,
    ) -> None:
        super().__init__()
        if mode not in ALIGNMENT_MODES:
            raise UnknownNameError(f"alignment mode {mode!r}: expected one of {ALIGNMENT_MODES}")
        reference = _checked_reference(reference)
        n_atoms = reference.shape[0]
        atoms = _checked_atoms(atoms, n_atoms)
        atom_weights = _checked_masses(masses, n_atoms)[atoms]
        if not (math.isfinite(weight) and weight >= 0):
            raise ConfigError(f"alignment weight: {weight} is not a finite number >= 0")
        if not 0 < max_angle <= math.pi:
            raise ConfigError(f"alignment max_angle: {max_angle} is not in (0, π]")

        self.mode = mode
        self.weight = float(weight)
        self.max_angle = float(max_angle)
        self.n_atoms = n_atoms
        barycentre_weights = atom_weights / atom_weights.sum()
        selected = reference[atoms]
        spread = selected - selected.mean(dim=0)
        extents = torch.linalg.svdvals(spread)
        if extents[1] <= 1e-6 * extents[0]:
            raise ConfigError("alignment atoms: the selected reference atoms lie on one line")
        self.translation_stiffness = _stiffness(
            translation_stiffness, 2.0 * weight * len(atoms), "translation_stiffness"
        )
        self.rotation_stiffness = _stiffness(
            rotation_stiffness,
            4.0 / 3.0 * weight * float(spread.square().sum()),
            "rotation_stiffness",
        )
        self.register_buffer("atoms", atoms)
        self.register_buffer("barycentre_weights", barycentre_weights)
        self.register_buffer("reference", selected - barycentre_weights @ selected)

    def forward(self, x: Tensor) -> Tensor:
        """Penalty in kJ/mol, shape ``(B,)``, for coordinates ``x`` ``(B, N, 3)`` in nm."""
        selected = self._select(x)
        if self.mode == "thesis":
            return self.weight * self._thesis_residual(selected).square().sum(dim=(-2, -1))
        centre, rotation = self._rigid_pose(selected)
        translation_term = 0.5 * self.translation_stiffness * centre.square().sum(dim=(-2, -1))
        return translation_term + 0.5 * self.rotation_stiffness * rotation_angle(rotation).square()

    def pose(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Barycentre ``(B, 3)`` nm of the selected atoms of ``x`` ``(B, N, 3)`` and the
        optimal (uncapped) Kabsch rotation ``(B, 3, 3)`` taking them, centred, onto the
        reference: the rigid-body pose the ``rigid`` penalty acts on."""
        centre, rotation = self._rigid_pose(self._select(x))
        return centre[:, 0], rotation

    def _rigid_pose(self, selected: Tensor) -> tuple[Tensor, Tensor]:
        centre = self._barycentre(selected)
        rotation = kabsch_rotation(
            selected - centre,
            self._buffer("reference", selected),
            self._buffer("barycentre_weights", selected),
        )
        return centre, rotation

    def aligned(self, x: Tensor) -> Tensor:
        """``x_aligned`` of the selected atoms, ``(B, n, 3)`` nm, detached (``thesis`` target).

        The selected atoms of ``x`` centred at the origin and rotated toward the
        reference by the Kabsch rotation with its angle capped at ``max_angle``.
        """
        with torch.no_grad():
            return self._aligned(self._select(x))

    def log_z_align(
        self,
        x: Tensor,
        beta: float,
        n_rotations: int = 8192,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """``log ∫ exp(-β U(g·x)) dg`` over rigid motions ``g``, shape ``(B,)``.

        ``g·x = R x + t`` with ``R`` Haar-distributed on SO(3) (total measure 1) and
        ``t`` Lebesgue on R³ (nm³); ``beta`` in mol/kJ. The value depends only on
        the shape of each configuration ``x`` ``(B, N, 3)``.

        ``rigid`` mode: the constant ``(3/2) log(2π / (β k_t)) + log ∫_0^π (1 - cos θ)/π
        exp(-β k_r θ²/2) dθ``, the rotation-angle integral by adaptive quadrature.

        ``thesis`` mode: a translation moves ``x`` but not ``x_aligned``, so every
        residual ``d_i = x_i - x_aligned,i`` shifts by ``t`` and the Gaussian integral
        over ``t`` is exact: ``(π/(βλn))^{3/2} exp(-βλ Σ_i |d_i - d̄|²)``. Let ``y`` be
        the shape in its Kabsch-optimal pose and ``P`` a rotation by θ about the unit
        axis ``u``. The Kabsch rotation of ``P y`` is ``Pᵀ``; capped, it undoes
        ``θ_c = min(θ, max_angle)`` about ``u``, so ``Σ_i |d_i - d̄|² = 2 (1 - cos θ_c)
        uᵀ J u`` with ``J = Σ_i (|s_i|² I - s_i s_iᵀ)`` and ``s_i`` the selected atoms
        about their plain mean (whatever the masses). The integral over rotations of
        ``exp(-2βλ (1 - cos θ_c) uᵀ J u)`` is estimated by importance sampling with
        ``n_rotations`` rotation vectors, drawn from ``generator``: a tenth uniform on
        SO(3), the rest from a Gaussian matched to the curvature ``λ J`` at θ = 0 (for
        large λ the integrand is concentrated there, where uniform draws rarely
        land). Every importance weight is at most 10; at the default the standard
        error of the result is about 0.01.
        """
        if not (math.isfinite(beta) and beta > 0):
            raise ConfigError(f"log_z_align beta: {beta} is not a finite number > 0")
        selected = self._select(x).detach().to(torch.float64)
        if self.mode == "rigid":
            value = self._rigid_log_z(beta)
            return torch.full(selected.shape[:1], value, dtype=x.dtype, device=x.device)
        if self.weight == 0:
            raise ConfigError("log_z_align: weight 0 leaves rigid motions free (infinite integral)")
        if n_rotations < 2:
            raise ConfigError(f"log_z_align n_rotations: {n_rotations} is smaller than 2")
        moments = _principal_moments(selected)
        options = {"generator": generator, "dtype": torch.float64, "device": selected.device}
        n_uniform = max(1, round(_HAAR_FRACTION * n_rotations))
        uniform = quaternion_to_rotation_vector(random_quaternions(n_uniform, **options))
        standard = torch.randn(n_rotations - n_uniform, 3, **options)
        chunk = max(1, _ROTATIONS_PER_CHUNK // n_rotations)
        log_rotational = torch.cat(
            [
                _thesis_rotational_log_z(
                    part, beta * self.weight, self.max_angle, uniform, standard
                )
                for part in moments.split(chunk)
            ]
        )
        n_selected = selected.shape[1]
        log_translational = 1.5 * math.log(math.pi / (beta * self.weight * n_selected))
        return (log_translational + log_rotational).to(x.dtype)

    def _select(self, x: Tensor) -> Tensor:
        if x.ndim != 3 or x.shape[-2:] != (self.n_atoms, 3):
            raise ShapeMismatchError(
                f"alignment penalty coordinates: shape {tuple(x.shape)}, "
                f"expected (B, {self.n_atoms}, 3)"
            )
        selected = x.index_select(1, self.atoms.to(x.device))
        if not bool(torch.isfinite(selected).all()):
            bad = (~torch.isfinite(selected)).reshape(x.shape[0], -1).any(-1).nonzero().flatten()
            raise NonFiniteCoordinatesError(
                "alignment penalty coordinates: NaN or infinite values in frame(s) "
                f"{bad[:10].tolist()}"
            )
        return selected

    def _buffer(self, name: str, like: Tensor) -> Tensor:
        return getattr(self, name).to(dtype=like.dtype, device=like.device)

    def _barycentre(self, selected: Tensor) -> Tensor:
        weights = self._buffer("barycentre_weights", selected)
        return (weights[:, None] * selected).sum(dim=-2, keepdim=True)

    def _aligned(self, selected: Tensor) -> Tensor:
        centred = selected - self._barycentre(selected)
        rotation = kabsch_rotation(
            centred,
            self._buffer("reference", selected),
            self._buffer("barycentre_weights", selected),
        )
        return centred @ cap_rotation(rotation, self.max_angle).mT

    def _thesis_residual(self, selected: Tensor) -> Tensor:
        """``x - x_aligned`` for selected atoms ``(B, n, 3)``, differentiable in ``x`` only."""
        with torch.no_grad():
            target = self._aligned(selected)
        return selected - target

    def _rigid_log_z(self, beta: float) -> float:
        if self.translation_stiffness == 0:
            raise ConfigError("log_z_align: translation_stiffness 0 (infinite integral)")
        angle_integral = rotation_angle_integral(beta * self.rotation_stiffness)
        translation_part = 1.5 * math.log(2.0 * math.pi / (beta * self.translation_stiffness))
        return translation_part + math.log(angle_integral)


def rotation_angle_integral(precision: float) -> float:
    """``∫_0^π (1 - cos θ)/π exp(-precision θ²/2) dθ``: the Haar measure (total 1) of
    ``exp(-precision θ(R)²/2)`` over SO(3), by adaptive quadrature; ``precision`` in 1/rad².
    """
    upper = math.pi if precision == 0 else min(math.pi, 40.0 / math.sqrt(precision))
    value, _ = integrate.quad(
        lambda angle: (1.0 - math.cos(angle)) / math.pi * math.exp(-0.5 * precision * angle**2),
        0.0,
        upper,
        epsabs=0.0,
        epsrel=1e-12,
        limit=200,
    )
    return value


def _principal_moments(points: Tensor) -> Tensor:
    """Eigenvalues ``(B, 3)`` (nm², ascending) of ``J = Σ_i (|s_i|² I - s_i s_iᵀ)``.

    ``s_i`` are the points ``(B, n, 3)`` about their plain mean: ``J`` is the
    inertia tensor with unit masses.
    """
    spread = points - points.mean(dim=-2, keepdim=True)
    identity = torch.eye(3, dtype=spread.dtype, device=spread.device)
    squared = spread.square().sum(dim=-1)[..., None, None] * identity
    return torch.linalg.eigvalsh((squared - spread[..., :, None] * spread[..., None, :]).sum(-3))


def _thesis_rotational_log_z(
    moments: Tensor, stiffness: float, max_angle: float, uniform: Tensor, standard: Tensor
) -> Tensor:
    """log ∫ exp(-2 βλ (1 - cos θ_c) uᵀ J u) dR over SO(3), shape ``(B,)``.

    The same draws serve every configuration (common random numbers), so a
    configuration's estimate does not depend on the rest of the batch and the
    differences between configurations, which reweighting uses, are less noisy.

    Arguments:
        moments: ``(B, 3)`` eigenvalues of ``J`` (nm²); rotation vectors are
            expressed in its eigenbasis.
        stiffness: βλ in 1/nm².
        max_angle: the cap on the alignment rotation, radians.
        uniform: ``(M_u, 3)`` rotation vectors of Haar-uniform rotations.
        standard: ``(M_g, 3)`` standard normal draws, scaled per configuration into
            the Gaussian proposal.
    """
    batch = moments.shape[0]
    n_uniform, n_rotations = uniform.shape[0], uniform.shape[0] + standard.shape[0]
    tiny = torch.finfo(moments.dtype).tiny
    variances = _PROPOSAL_WIDTH**2 / (2.0 * stiffness * moments.clamp_min(tiny))
    variances = variances.clamp_max(_MAX_PROPOSAL_VARIANCE)[:, None, :]
    gaussian = standard * variances.sqrt()
    vectors = torch.cat([uniform.expand(batch, n_uniform, 3), gaussian], dim=1)

    angle = torch.linalg.vector_norm(vectors, dim=-1)
    sinc_squared = torch.sinc(angle / (2.0 * math.pi)).square()
    log_haar = torch.log(sinc_squared) - math.log(8.0 * math.pi**2)
    log_gaussian = -0.5 * (vectors.square() / variances + torch.log(2.0 * math.pi * variances))
    uniform_share = n_uniform / n_rotations
    log_proposal_over_haar = torch.logaddexp(
        torch.full_like(log_haar, math.log(uniform_share)),
        math.log1p(-uniform_share) + log_gaussian.sum(dim=-1) - log_haar,
    )
    log_weights = torch.where(angle <= math.pi, -log_proposal_over_haar, -math.inf)

    quadratic = (moments[:, None, :] * vectors.square()).sum(dim=-1)
    capped_factor = 2.0 * (1.0 - math.cos(max_angle)) / angle.clamp_min(max_angle).square()
    factor = torch.where(angle <= max_angle, sinc_squared, capped_factor)
    log_integrand = log_weights - stiffness * factor * quadratic
    return torch.logsumexp(log_integrand, dim=1) - math.log(n_rotations)


def _checked_reference(reference: Tensor) -> Tensor:
    reference = torch.as_tensor(reference).detach().to(torch.float64)
    if reference.ndim != 2 or reference.shape[1] != 3:
        raise ShapeMismatchError(
            f"alignment reference: shape {tuple(reference.shape)}, expected (N, 3)"
        )
    if not torch.isfinite(reference).all():
        raise NonFiniteCoordinatesError("alignment reference: contains NaN or infinite values")
    return reference.cpu()


def _checked_atoms(atoms: Tensor | None, n_atoms: int) -> Tensor:
    if atoms is None:
        return torch.arange(n_atoms)
    atoms = torch.as_tensor(atoms, dtype=torch.long).flatten().cpu()
    if atoms.numel() and (atoms.min() < 0 or atoms.max() >= n_atoms):
        raise ConfigError(f"alignment atoms: indices outside [0, {n_atoms})")
    if atoms.unique().numel() != atoms.numel():
        raise ConfigError("alignment atoms: repeated indices")
    if atoms.numel() < 3:
        raise ConfigError(f"alignment atoms: {atoms.numel()} selected, at least 3 needed")
    return atoms


def _checked_masses(masses: Tensor | None, n_atoms: int) -> Tensor:
    if masses is None:
        return torch.ones(n_atoms, dtype=torch.float64)
    masses = torch.as_tensor(masses).detach().to(torch.float64).flatten().cpu()
    if masses.shape != (n_atoms,):
        raise ShapeMismatchError(f"alignment masses: {masses.numel()} values for {n_atoms} atoms")
    if not (torch.isfinite(masses).all() and (masses > 0).all()):
        raise ConfigError("alignment masses: every mass must be finite and > 0")
    return masses


def _stiffness(value: float | None, default: float, name: str) -> float:
    if value is None:
        return default
    if not (math.isfinite(value) and value >= 0):
        raise ConfigError(f"alignment {name}: {value} is not a finite number >= 0")
    return float(value)
