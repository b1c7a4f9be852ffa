"""Term-by-term comparison of the torch energy with OpenMM on a set of frames."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from forcefields.energy import TERM_NAMES, Energy
from forcefields.openmm_oracle import OpenMMOracle

__all__ = ["Discrepancy", "ValidationReport", "compare_with_openmm", "DEFAULT_TOLERANCE"]

DEFAULT_TOLERANCE = {torch.float64: 1e-8, torch.float32: 1e-5}
"""Largest accepted error relative to max(1, |OpenMM value|), per dtype.

float64: both codes sum the same terms in double precision; differences are
round-off of sums of terms up to ~10⁴ kJ/mol, far below 1e-8. float32: machine
epsilon 6e-8 times the magnitudes of the terms that cancel in a sum (~10² on
equilibrium frames) stays below 1e-5.
"""


@dataclass
class Discrepancy:
    """Largest absolute and relative (to max(1, |reference|)) deviation."""

    max_abs: float
    max_rel: float

    @classmethod
    def between(cls, value: np.ndarray, reference: np.ndarray) -> Discrepancy:
        error = np.abs(np.asarray(value, dtype=np.float64) - reference)
        if error.size == 0:
            return cls(0.0, 0.0)
        scale = np.maximum(1.0, np.abs(reference))
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

    @property
    def passed(self) -> bool:
        values = [*self.terms.values(), self.total, self.forces]
        return all(d.max_rel <= self.tolerance for d in values)

    def to_dict(self) -> dict:
        return {
            "frames": self.frames,
            "dtype": self.dtype,
            "terms": {name: d.to_dict() for name, d in self.terms.items()},
            "total": self.total.to_dict(),
            "forces": self.forces.to_dict(),
            "tolerance": self.tolerance,
            "passed": self.passed,
        }

    def table(self) -> str:
        """A plain-text table of the discrepancies."""
        lines = [f"{'term':<14}{'max |Δ|':>14}{'max rel':>14}", "-" * 42]
        rows = [*self.terms.items(), ("total", self.total), ("forces", self.forces)]
        for name, d in rows:
            flag = "" if d.max_rel <= self.tolerance else "  FAIL"
            lines.append(f"{name:<14}{d.max_abs:>14.3e}{d.max_rel:>14.3e}{flag}")
        lines.append(
            f"{self.frames} frames, {self.dtype}, tolerance {self.tolerance:.0e} relative: "
            + ("passed" if self.passed else "FAILED")
        )
        return "\n".join(lines)


def compare_with_openmm(
    energy: Energy,
    oracle: OpenMMOracle,
    frames: np.ndarray,
    tolerance: float | None = None,
    batch_size: int = 1024,
) -> ValidationReport:
    """Compare every term and the forces of ``energy`` with ``oracle`` on ``frames``.

    Arguments:
        energy: the torch energy (exact: built without clipping or alignment).
        oracle: OpenMM on the same files.
        frames: ``(B, N, 3)`` nm.
        tolerance: accepted relative error; default from ``DEFAULT_TOLERANCE``.
        batch_size: frames per torch evaluation.
    """
    dtype = next(energy.buffers()).dtype
    tolerance = DEFAULT_TOLERANCE[dtype] if tolerance is None else tolerance
    reference_terms, reference_forces = oracle.terms(frames)
    device = next(energy.buffers()).device
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
        forces=Discrepancy.between(np.concatenate(torch_forces), reference_force_total),
        tolerance=tolerance,
    )
