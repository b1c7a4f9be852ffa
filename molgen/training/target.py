"""The target a phase trains towards: reduced energy ``beta U_B`` and mode labels on flat points."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from forcefields.errors import ConfigError, MolgenError
from molgen.finite_rows import on_finite_rows
from systems.registry import System

__all__ = ["ReducedEnergy", "mode_labels", "to_coordinates"]

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def to_coordinates(system: System, x: torch.Tensor) -> torch.Tensor:
    """Flat points ``(B, D)`` as the system's energy expects them: ``(B, N, 3)`` nm for
    molecules, unchanged for toys."""
    if system.kind == "molecule":
        return x.reshape(x.shape[0], system.n_atoms, 3)
    return x


class ReducedEnergy:
    r"""Callable ``(B, D) -> (B,)``: :math:`\beta U_B(x) / f` for temperature factor ``f``.

    Evaluated in ``dtype`` and returned in the dtype of ``x``; differentiable in ``x``
    (forward-pass losses need that). ``clip`` and ``align`` are passed to
    :meth:`System.energy` (molecules only; ``path`` names the config field in errors).

    Arguments:
        system: the system.
        temperature_factor: target temperature over the system's temperature.
        dtype: ``"float32"`` or ``"float64"``.
        device: where the energy runs.
        clip, align: energy options for molecules.
        path: config field these options came from, for error messages.
    """

    def __init__(
        self,
        system: System,
        temperature_factor: float = 1.0,
        dtype: str = "float64",
        device: torch.device | str = "cpu",
        clip: str | Mapping[str, float | None] | None = None,
        align: Mapping[str, Any] | None = None,
        path: str = "phase",
    ):
        if system.kind != "molecule" and (clip is not None or align is not None):
            raise ConfigError(f"{path}: clip and align apply to molecules only")
        try:
            self.energy = system.energy(dtype=DTYPES[dtype], clip=clip, align=align, device=device)
        except MolgenError as error:
            raise ConfigError(f"{path}: {error}") from error
        self.system = system
        self.beta = system.beta / temperature_factor
        self.dtype = DTYPES[dtype]

    def physical(self, x: torch.Tensor) -> torch.Tensor:
        """``U_B(x)`` ``(B,)`` (kJ/mol for molecules, dimensionless for toys) in ``self.dtype``.

        A point with a NaN or infinite coordinate (a generated sample that overflowed)
        gets a NaN energy, so that the loss is NaN and the trainer skips the step, rather
        than an error that ends the run.
        """
        return on_finite_rows(self.energy, to_coordinates(self.system, x.to(self.dtype)))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``beta U_B(x) / f`` ``(B,)`` for flat points ``x`` ``(B, D)``."""
        return (self.beta * self.physical(x)).to(x.dtype)


def mode_labels(system: System, x: torch.Tensor) -> torch.Tensor | None:
    """Integer mode labels ``(B,)`` of flat points ``x`` ``(B, D)``; ``None`` without modes."""
    if system.mode_function is None or not system.mode_names:
        return None
    labels = system.modes(to_coordinates(system, x.detach()))
    return torch.as_tensor(labels).long().reshape(-1)
