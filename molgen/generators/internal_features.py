"""Internal coordinates ↔ unbounded features, with exact log-Jacobians.

Bonds ``r > 0`` become ``log r``; angles ``θ ∈ (0, π)`` become ``logit(θ/π)``;
torsions ``φ`` live on an interval ``(low, low + width)`` of the circle and become
``logit((φ - low) mod 2π / width)``. The torsion intervals depend on the kind of torsion
(:mod:`molgen.generators.zmatrix`): the whole circle, cut where the data are sparsest
(``free``); ±90° about the reference value (``sibling``); the half circle of the
reference value's sign (``chiral``, which fixes the handedness of a tetrahedral
centre); ±90° about the reference value (``rotor``: it holds the canonical labelling
of a methyl group's hydrogens, see :mod:`molgen.generators.internal`). A configuration
outside these intervals has density zero.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

from molgen.generators.internal_coordinates import to_internal
from molgen.generators.zmatrix import TORSION_KINDS, ZMatrix

__all__ = ["FeatureMap", "largest_gap_cut"]

_BOND, _ANGLE, _TORSION = 0, 1, 2


def largest_gap_cut(angles: np.ndarray) -> float:
    """The middle of the widest empty arc between the sorted angles ``(M,)`` (radians)."""
    ordered = np.sort(np.mod(angles, 2.0 * math.pi))
    gaps = np.diff(np.concatenate([ordered, ordered[:1] + 2.0 * math.pi]))
    widest = int(np.argmax(gaps))
    return float(ordered[widest] + 0.5 * gaps[widest])


class FeatureMap(nn.Module):
    """Bijection between internal coordinates ``(B, 3N - 6)`` and features in R^{3N-6}.

    Arguments:
        zmatrix: the molecule's Z-matrix.
        reference: ``(N, 3)`` nm, a structure that sets the ``sibling`` signs and the
            ``rotor`` sectors (usually the energy minimum).
    """

    def __init__(self, zmatrix: ZMatrix, reference: Tensor):
        super().__init__()
        self.zmatrix = zmatrix
        reference_ic = to_internal(torch.as_tensor(reference, dtype=torch.float64)[None], zmatrix)[
            0
        ]
        kinds = np.full(len(reference_ic), _BOND)
        kinds[2] = _ANGLE
        kinds[4::3] = _ANGLE
        kinds[5::3] = _TORSION
        self.register_buffer("bonds", torch.as_tensor(kinds == _BOND))
        self.register_buffer("angles", torch.as_tensor(kinds == _ANGLE))
        self.register_buffer("torsions", torch.as_tensor(kinds == _TORSION))
        torsion_kind = zmatrix.torsion_kinds
        reference_torsions = reference_ic[5::3]
        low = torch.zeros(len(torsion_kind), dtype=torch.float64)
        width = torch.full_like(low, 2.0 * math.pi)
        for n, kind in enumerate(TORSION_KINDS[k] for k in torsion_kind):
            value = float(reference_torsions[n])
            if kind == "free":
                low[n] = value - math.pi
            elif kind == "sibling":
                low[n], width[n] = value - math.pi / 2.0, math.pi
            elif kind == "chiral":
                low[n], width[n] = (0.0 if value > 0 else -math.pi), math.pi
            else:
                low[n], width[n] = value - math.pi / 2.0, math.pi
        self.register_buffer("torsion_low", low)
        self.register_buffer("torsion_width", width)
        self.register_buffer("free", torch.as_tensor(torsion_kind == TORSION_KINDS.index("free")))

    def set_cuts(self, internal: Tensor) -> None:
        """Cut every ``free`` torsion where the data ``(M, 3N - 6)`` leave the widest gap."""
        torsions = internal[:, 5::3].detach().cpu().double().numpy()
        for n in torch.nonzero(self.free).flatten().tolist():
            self.torsion_low[n] = largest_gap_cut(torsions[:, n])

    def forward(self, features: Tensor) -> tuple[Tensor, Tensor]:
        """Internal coordinates and ``log|d internal / d features|`` ``(B,)``."""
        internal = torch.empty_like(features)
        internal[:, self.bonds] = torch.exp(features[:, self.bonds])
        internal[:, self.angles] = math.pi * torch.sigmoid(features[:, self.angles])
        low, width = self.torsion_low.to(features), self.torsion_width.to(features)
        internal[:, self.torsions] = low + width * torch.sigmoid(features[:, self.torsions])
        bounded = ~self.bonds
        log_jacobian = features[:, self.bonds].sum(-1)
        log_jacobian = log_jacobian + (
            nn.functional.logsigmoid(features[:, bounded])
            + nn.functional.logsigmoid(-features[:, bounded])
        ).sum(-1)
        log_widths = int(self.angles.sum()) * math.log(math.pi) + torch.log(width).sum()
        return internal, log_jacobian + log_widths

    def inverse(self, internal: Tensor) -> tuple[Tensor, Tensor]:
        """Features and ``log|d internal / d features|`` ``(B,)``; ``-inf`` outside the domain.

        Torsions are first brought into ``[low, low + 2π)``.
        """
        low, width = self.torsion_low.to(internal), self.torsion_width.to(internal)
        fractions = torch.cat(
            [
                internal[:, self.angles] / math.pi,
                torch.remainder(internal[:, self.torsions] - low, 2.0 * math.pi) / width,
            ],
            dim=-1,
        )
        inside = ((fractions > 0) & (fractions < 1)).all(-1)
        tiny = torch.finfo(internal.dtype).eps
        fractions = fractions.clamp(tiny, 1.0 - tiny)
        logits = torch.log(fractions) - torch.log1p(-fractions)
        n_angles = int(self.angles.sum())
        features = torch.empty_like(internal)
        features[:, self.bonds] = torch.log(internal[:, self.bonds])
        features[:, self.angles] = logits[:, :n_angles]
        features[:, self.torsions] = logits[:, n_angles:]
        _, log_jacobian = self.forward(features)
        return features, torch.where(inside, log_jacobian, -math.inf)
