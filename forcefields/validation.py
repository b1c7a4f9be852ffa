"""Term-by-term comparison of the torch energy with OpenMM on a set of frames."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from forcefields.energy import TERM_NAMES, Energy
from forcefields.errors import ShapeMismatchError
from forcefields.openmm_oracle import OpenMMOracle

__all__ = [
    "Discrepancy",
    "ValidationReport",
    "compare_with_openmm",
    "DEFAULT_TOLERANCE",
    "DEFAULT_FORCE_TOLERANCE",
]

DEFAULT_TOLERANCE = {torch.float64: 1e-8, torch.float32: 5e-5}
"""Largest accepted energy error relative to max(1, |OpenMM value|), per dtype.

float64: both codes sum the same terms in double precision; differences are
round-off of sums of terms up to ~10⁴ kJ/mol, far below 1e-8. float32: each
interaction's coordinate (r, θ, φ) carries a relative rounding error ε ≈ 6e-8,
so its energy is off by ≈ |dU/ds| s ε, ~10⁻⁵ kJ/mol for stiff bonds at thermal
distortions; terms and totals that sum to a few kJ/mol (dialanine's Lennard-Jones
and impropers, its total where bonded and Coulomb energies cancel) then show
relative errors of 1-5e-5, whatever the summation order.
"""

DEFAULT_FORCE_TOLERANCE = {torch.float64: 1e-8, torch.float32: 1e-4}
"""Largest accepted force error relative to the frame's force scale (see
:func:`_force_scale`), per dtype.

float32: a bond force 2k(r - r0) inherits the float32 resolution of r, about
ε|x| ≈ 6e-8 × 0.3 nm; with the stiffest CHARMM bonds (2k ≈ 2.6·10⁵ kJ/mol/nm²)
that is ≈ 5·10⁻³ kJ/mol/nm, i.e. a few 10⁻⁵ of the bonded forces of a thermal
frame. 1e-4 bounds it with a margin of two.
"""


@dataclass
class Discrepancy:
    """Largest absolute and relative deviation.

    Energies are compared relative to max(1, |reference|); forces relative to
    the scale of :func:`_force_scale`.
    """

    max_abs: float
    max_rel: float

    @classmethod
    def between(cls, value: np.ndarray, reference: np.ndarray, scale=None) -> Discrepancy:
        """Deviation of ``value`` from ``reference``; ``scale`` defaults to ``|reference|``."""
        error = np.abs(np.asarray(value, dtype=np.float64) - reference)
        if error.size == 0:
            return cls(0.0, 0.0)
        scale = np.maximum(1.0, np.abs(reference) if scale is None else scale)
        return cls(float(error.max()), float((error / scale).max()))

    def to_dict(self) -> dict[str, float]:
        return {"max_abs": self.max_abs, "max_rel": self.max_rel}


@dataclass
class ValidationReport:
    """Outcome of :func:`compare_with_openmm`; ``to_dict`` gives the CLI's JSON contract."""

    frames: int
    dtype: str
    terms: dict[str, Discrepancy]
    total: Discrepancy
    forces: Discrepancy
    tolerance: float
    force_tolerance: float

    @property
    def passed(self) -> bool:
        energies = [*self.terms.values(), self.total]
        return (
            all(d.max_rel <= self.tolerance for d in energies)
            and self.forces.max_rel <= self.force_tolerance
        )

    def to_dict(self) -> dict:
        return {
            "frames": self.frames,
            "dtype": self.dtype,
            "terms": {name: d.to_dict() for name, d in self.terms.items()},
            "total": self.total.to_dict(),
            "forces": self.forces.to_dict(),
            "tolerance": self.tolerance,
            "force_tolerance": self.force_tolerance,
            "passed": self.passed,
        }

    def table(self) -> str:
        """A plain-text table of the discrepancies."""
        lines = [f"{'term':<14}{'max |Δ|':>14}{'unit':>11}{'max rel':>14}", "-" * 53]
        rows = [*self.terms.items(), ("total", self.total), ("forces", self.forces)]
        for name, d in rows:
            limit = self.force_tolerance if name == "forces" else self.tolerance
            unit = "kJ/mol/nm" if name == "forces" else "kJ/mol"
            flag = "" if d.max_rel <= limit else "  FAIL"
            lines.append(f"{name:<14}{d.max_abs:>14.3e}{unit:>11}{d.max_rel:>14.3e}{flag}")
        lines.append(
            f"{self.frames} frames, {self.dtype}, relative tolerance {self.tolerance:.3g} "
            f"(energies), {self.force_tolerance:.3g} (forces): "
            + ("passed" if self.passed else "FAILED")
        )
        return "\n".join(lines)


def _force_scale(forces_by_term: dict[str, np.ndarray]) -> np.ndarray:
    """Per-frame scale ``(B, 1, 1)`` of the total force: the largest component of any term.

    A total force component is a sum of per-term contributions that largely
    cancel near a minimum (stiff bonds contribute ~10³ kJ/mol/nm at thermal
    distortions); round-off is relative to the largest summand, not to the sum.
    """
    largest = np.stack([np.abs(f).max(axis=(1, 2)) for f in forces_by_term.values()]).max(axis=0)
    return np.maximum(1.0, largest)[:, None, None]


def compare_with_openmm(
    energy: Energy,
    oracle: OpenMMOracle,
    frames: np.ndarray,
    tolerance: float | None = None,
    force_tolerance: float | None = None,
    batch_size: int = 1024,
) -> ValidationReport:
    """Compare every term and the forces of ``energy`` with ``oracle`` on ``frames``.

    Arguments:
        energy: the torch energy (exact: built without clipping or alignment).
        oracle: OpenMM on the same files.
        frames: ``(B, N, 3)`` nm.
        tolerance: accepted relative energy error; default from ``DEFAULT_TOLERANCE``.
        force_tolerance: accepted relative force error; default from
            ``DEFAULT_FORCE_TOLERANCE``.
        batch_size: frames per torch evaluation.

    Raises:
        ShapeMismatchError: ``frames`` holds no frame.
    """
    if len(frames) == 0:
        raise ShapeMismatchError("compare_with_openmm: no frames to compare (got 0)")
    dtype = energy.dtype
    tolerance = DEFAULT_TOLERANCE[dtype] if tolerance is None else tolerance
    if force_tolerance is None:
        force_tolerance = DEFAULT_FORCE_TOLERANCE[dtype]
    # OpenMM sees the frames exactly as the torch energy does (rounded to its dtype):
    # coordinate rounding is not an error of the energy function.
    frames = torch.as_tensor(frames, dtype=dtype).double().numpy()
    reference_terms, reference_forces = oracle.terms(frames)
    device = energy.device
    torch_terms = {name: [] for name in TERM_NAMES}
    torch_forces = []
    for start in range(0, len(frames), batch_size):
        x = torch.as_tensor(frames[start : start + batch_size], dtype=dtype, device=device)
        x.requires_grad_(True)
        values = energy.terms(x)
        (gradient,) = torch.autograd.grad(torch.stack(list(values.values())).sum(), x)
        for name in TERM_NAMES:
            torch_terms[name].append(values[name].detach().cpu().double().numpy())
        torch_forces.append(-gradient.cpu().double().numpy())
    terms = {
        name: Discrepancy.between(np.concatenate(torch_terms[name]), reference_terms[name])
        for name in TERM_NAMES
    }
    torch_total = sum(np.concatenate(torch_terms[name]) for name in TERM_NAMES)
    reference_total = sum(reference_terms[name] for name in TERM_NAMES)
    reference_force_total = sum(reference_forces[name] for name in TERM_NAMES)
    return ValidationReport(
        frames=len(frames),
        dtype=str(dtype).replace("torch.", ""),
        terms=terms,
        total=Discrepancy.between(torch_total, reference_total),
        forces=Discrepancy.between(
            np.concatenate(torch_forces),
            reference_force_total,
            scale=_force_scale(reference_forces),
        ),
        tolerance=tolerance,
        force_tolerance=force_tolerance,
    )
