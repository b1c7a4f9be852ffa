"""Energies and forces of the torch CHARMM energy in one pass, without autograd.

Every term of :class:`forcefields.Energy` computes its energy and its analytic gradient
together (``EnergyTerm.evaluate(xt, gradient)``, coordinates split by Cartesian component,
see :mod:`forcefields.geometry`); summing them gives ``U`` and ``F = −∂U/∂x`` at the cost of
one energy evaluation, with no autograd graph. The function contains no data-dependent
Python branches, so ``torch.compile`` captures it whole (the coordinate checks of
``Energy.forward`` are the caller's business).

Example:
    >>> import systems, torch
    >>> butane = systems.load("butane")
    >>> forces = energy_and_forces_function(butane.energy())
    >>> x = torch.as_tensor(butane.positions)[None]  # the energy's dtype: float64
    >>> energies, forces_nm = forces(x)  # (B,) kJ/mol, (B, N, 3) kJ/mol/nm
    >>> energies.shape, forces_nm.shape
    (torch.Size([1]), torch.Size([1, 14, 3]))
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from forcefields import Energy
from forcefields.errors import ConfigError
from forcefields.geometry import component_major, from_component_major

__all__ = ["ForceFunction", "energy_and_forces_function"]

ForceFunction = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
"""``(B, N, 3)`` nm → energies ``(B,)`` kJ/mol and forces ``(B, N, 3)`` kJ/mol/nm."""


def energy_and_forces_function(energy: Energy) -> ForceFunction:
    """The physical energy's ``x ↦ (U(x), −∂U/∂x)`` for batches ``(B, N, 3)`` in nm.

    Raises:
        ConfigError: ``energy`` carries an alignment penalty or clipping; the physical
            (unclipped, unaligned) energy is the one dynamics must see.
    """
    if energy.alignment is not None:
        raise ConfigError("energy: Langevin dynamics needs the energy without alignment penalty")
    if any(threshold is not None for threshold in energy.thresholds.values()):
        raise ConfigError("energy: Langevin dynamics needs the unclipped energy")
    terms = list(energy.term_modules.values())

    def energy_and_forces(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        energy.check_dtype_and_device(x)
        xt = component_major(x)
        gradient = tuple(torch.zeros_like(component) for component in xt)
        energies = sum(term.evaluate(xt, gradient) for term in terms)
        return energies, -from_component_major(gradient)

    return energy_and_forces
