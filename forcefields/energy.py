"""The batched CHARMM energy: a sum of term modules, optionally clipped and aligned."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from forcefields.analytic import summed_energy
from forcefields.clipping import resolve_thresholds
from forcefields.errors import NonFiniteCoordinatesError, ShapeMismatchError
from forcefields.parameters import ForceFieldParameters
from forcefields.terms import (
    CmapTorsions,
    Coulomb,
    HarmonicAngles,
    HarmonicDistances,
    HarmonicImpropers,
    LennardJones,
    PeriodicTorsions,
)

__all__ = ["Energy", "TERM_NAMES"]

TERM_NAMES = ("bond", "angle", "urey_bradley", "dihedral", "improper", "cmap", "lj", "coulomb")
"""The terms of :meth:`Energy.terms`. ``dihedral`` holds every periodic torsion, proper
dihedrals and periodic impropers (CHARMM ``IMPROPER`` lines with n > 0, which parmed
lists among the dihedrals) alike; ``improper`` holds the harmonic impropers (n = 0)."""


def _build_terms(p: ForceFieldParameters, thresholds: Mapping[str, float | None]) -> nn.ModuleDict:
    return nn.ModuleDict(
        {
            "bond": HarmonicDistances(p.bond_indices, p.bond_k, p.bond_r0, thresholds["bond"]),
            "angle": HarmonicAngles(
                p.angle_indices, p.angle_k, p.angle_theta0, thresholds["angle"]
            ),
            "urey_bradley": HarmonicDistances(
                p.urey_bradley_indices,
                p.urey_bradley_k,
                p.urey_bradley_r0,
                thresholds["urey_bradley"],
            ),
            "dihedral": PeriodicTorsions(
                p.dihedral_indices, p.dihedral_k, p.dihedral_periodicity, p.dihedral_phase
            ),
            "improper": HarmonicImpropers(
                p.improper_indices, p.improper_k, p.improper_psi0, thresholds["improper"]
            ),
            "cmap": CmapTorsions(p.cmap),
            "lj": LennardJones(p.pair_indices, p.pair_rmin, p.pair_epsilon, thresholds["lj"]),
            "coulomb": Coulomb(p.pair_indices, p.pair_charge_product, thresholds["coulomb"]),
        }
    )


class Energy(nn.Module):
    """Batched potential energy ``U(x)`` of one molecule in vacuum.

    Arguments:
        parameters: the force field (see :func:`forcefields.load`).
        clip: per-term clipping thresholds (see :mod:`forcefields.clipping`);
            ``None`` gives the exact energy.
        alignment: an optional penalty module ``(B, N, 3) -> (B,)`` added as the
            term ``align``.

    ``energy(x)`` with ``x`` of shape ``(B, N, 3)`` in nm returns ``(B,)`` kJ/mol;
    ``energy.terms(x)`` returns the same split by term; ``energy.forces(x)``
    returns ``-∂U/∂x`` in kJ/mol/nm, ``(B, N, 3)``.

    The energy is differentiable once with ``torch.autograd`` (a second derivative is
    refused). ``torch.func`` transforms (``grad``, ``vmap``, ``jacrev``) are not
    supported; the energy is batched already, and ``forces`` gives the gradient.
    A ``thesis`` alignment penalty contributes its own gradient ``2λ(x - x_aligned)``
    with the aligned target held constant (thesis §2.4), which is not the derivative of
    the penalty's value: its forces are not conservative. The ``rigid`` penalty's are.

    Example:
        >>> import forcefields, systems, torch
        >>> butane = systems.load("butane")
        >>> energy = forcefields.load(butane.psf, butane.prm)
        >>> energy(torch.as_tensor(butane.positions)[None]).shape
        torch.Size([1])
    """

    def __init__(
        self,
        parameters: ForceFieldParameters,
        clip: Mapping[str, float | None] | str | None = None,
        alignment: nn.Module | None = None,
    ):
        super().__init__()
        self.parameters_source = parameters.source
        self.n_atoms = parameters.n_atoms
        self.thresholds = resolve_thresholds(clip)
        self.term_modules = _build_terms(parameters, self.thresholds)
        self.alignment = alignment

    @property
    def dtype(self) -> torch.dtype:
        """Floating-point dtype of the parameters (and of the energies returned)."""
        return next(b for b in self.buffers() if b.is_floating_point()).dtype

    @property
    def device(self) -> torch.device:
        """Device the parameters live on."""
        return next(self.buffers()).device

    @property
    def term_names(self) -> tuple[str, ...]:
        """Names of the terms ``terms(x)`` returns, in order."""
        return TERM_NAMES + (("align",) if self.alignment is not None else ())

    def check_coordinates(self, x: torch.Tensor) -> None:
        """Raise a typed error unless ``x`` is a finite ``(B, N, 3)`` tensor for this molecule."""
        if not isinstance(x, torch.Tensor) or x.is_complex() or x.dtype == torch.bool:
            kind = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
            raise ShapeMismatchError(
                f"coordinates: expected a real torch.Tensor of shape (B, {self.n_atoms}, 3), "
                f"got {kind}"
            )
        if x.ndim != 3 or x.shape[1:] != (self.n_atoms, 3):
            raise ShapeMismatchError(
                f"coordinates: expected shape (B, {self.n_atoms}, 3) for {self.parameters_source}, "
                f"got {tuple(x.shape)}"
            )
        if not bool(torch.isfinite(x).all()):
            bad = (~torch.isfinite(x)).reshape(x.shape[0], -1).any(-1).nonzero().flatten()
            raise NonFiniteCoordinatesError(
                f"coordinates: NaN or infinite values in frame(s) {bad[:10].tolist()}"
            )

    def check_dtype_and_device(self, x: torch.Tensor) -> None:
        """Raise a typed error unless ``x`` has the parameters' dtype and device.

        Mixing them would otherwise fail deep inside a term with an untyped
        ``RuntimeError`` (or, for some operations, silently upcast).
        """
        dtype, device = self.dtype, self.device
        if x.dtype != dtype or x.device != device:
            raise ShapeMismatchError(
                f"coordinates: {x.dtype} on {x.device}, but the energy of "
                f"{self.parameters_source} is {dtype} on {device} "
                "(convert the coordinates with .to(), or load the energy with that dtype/device)"
            )

    def terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Energy of each term, ``dict[str, Tensor(B,)]`` in kJ/mol, each differentiable."""
        self.check_coordinates(x)
        self.check_dtype_and_device(x)
        values = {name: summed_energy(x, [module]) for name, module in self.term_modules.items()}
        if self.alignment is not None:
            values["align"] = self.alignment(x)
        return values

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Total energy ``(B,)`` in kJ/mol for ``x`` ``(B, N, 3)`` nm (of the energy's dtype)."""
        self.check_coordinates(x)
        self.check_dtype_and_device(x)
        energy = summed_energy(x, list(self.term_modules.values()))
        if self.alignment is not None:
            energy = energy + self.alignment(x)
        return energy

    def forces(self, x: torch.Tensor) -> torch.Tensor:
        """Forces ``-∂U/∂x``, ``(B, N, 3)`` kJ/mol/nm (detached), also inside
        ``torch.no_grad`` or ``torch.inference_mode`` and for inference tensors."""
        self.check_coordinates(x)
        self.check_dtype_and_device(x)
        with torch.inference_mode(False), torch.enable_grad():
            x = x.detach().clone().requires_grad_(True)
            (gradient,) = torch.autograd.grad(self(x).sum(), x)
        return -gradient
