"""``molgen.Generator``: a Boltzmann generator for a system, built, sampled and saved in code.

The training CLI (``molgen train``) builds the same models from a config; this class is
the Python entry point:

    >>> import molgen
    >>> generator = molgen.Generator("double_well_2d", width=8, repeats=1)
    >>> x, log_prob = generator.sample(4)
    >>> x.shape, log_prob.shape
    (torch.Size([4, 2]), torch.Size([4]))

For molecules ``sample`` returns coordinates ``(n, N, 3)`` in nm and ``log_prob`` accepts
them (or flat ``(n, 3N)``). ``hydrogens="flow"`` (default) gives an exact density over all
atoms; ``"deterministic"`` places hydrogens with a network and ``log_prob`` is that of the
heavy atoms (thesis §3.3).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

import systems
from forcefields.atomic_files import torch_save_atomic
from forcefields.errors import ConfigError, InputFileError
from molgen.training.config import FlowConfig
from molgen.training.model import build_flow, fit_standardization
from systems.registry import System

__all__ = ["Generator", "RIGID_ALIGNMENT"]

RIGID_ALIGNMENT = {"mode": "rigid", "atoms": "heavy"}
"""Alignment options whose pose distribution internal-coordinate generators sample."""

_FORMAT = "molgen-generator-1"


class Generator(nn.Module):
    """A generator for ``system`` (a :class:`systems.System` or a name for ``systems.load``).

    Arguments:
        system: the system.
        hydrogens: molecules: ``"flow"`` or ``"deterministic"``.
        coordinates: molecules with ``hydrogens="flow"``: ``"internal"`` (default) or
            ``"cartesian"``; deterministic hydrogens always use Cartesian coordinates.
        dtype: parameter dtype.
        **architecture: ``width``, ``repeats``, ``hydrogen_width``, ``hydrogen_repeats``
            (see :class:`molgen.training.config.FlowConfig`).
    """

    def __init__(
        self,
        system: System | str,
        hydrogens: str = "flow",
        coordinates: str = "internal",
        dtype: torch.dtype = torch.float32,
        **architecture: Any,
    ):
        super().__init__()
        self.system = systems.load(system) if isinstance(system, str) else system
        unknown = set(architecture) - {"width", "repeats", "hydrogen_width", "hydrogen_repeats"}
        if unknown:
            raise ConfigError(f"Generator: unknown architecture option {sorted(unknown)[0]!r}")
        if self.system.kind == "molecule":
            if hydrogens not in ("flow", "deterministic"):
                raise ConfigError(
                    f"Generator hydrogens: {hydrogens!r}, expected flow or deterministic"
                )
            if coordinates not in ("internal", "cartesian"):
                raise ConfigError(
                    f"Generator coordinates: {coordinates!r}, expected internal or cartesian"
                )
            if hydrogens == "deterministic":
                coordinates = "cartesian"
            config = FlowConfig(
                preset="molecule",
                standardize=True,
                hydrogens=hydrogens,
                coordinates=coordinates,
                align=dict(RIGID_ALIGNMENT) if coordinates == "internal" else None,
                **architecture,
            )
        else:
            config = FlowConfig(preset="double_well", standardize=True, **architecture)
        self.config = config
        self.flow = build_flow(config, self.system.dimension, dtype, self.system)

    @property
    def is_molecule(self) -> bool:
        """Whether samples are molecular coordinates ``(n, N, 3)``."""
        return self.system.kind == "molecule"

    def _flat(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], -1).to(self.context_dtype)

    @property
    def context_dtype(self) -> torch.dtype:
        """The dtype of the parameters."""
        return next(self.flow.parameters()).dtype

    def fit(self, data: Tensor) -> Generator:
        """Fit the standardisation (and internal-coordinate cuts) to data ``(M, N, 3)`` or
        ``(M, D)``; returns ``self``."""
        flat = self._flat(torch.as_tensor(data))
        canonical = getattr(self.flow, "canonical", None)
        fit_standardization(self.flow, flat if canonical is None else canonical(flat))
        return self

    def sample(self, n: int, seed: int | None = None) -> tuple[Tensor, Tensor]:
        """``n`` samples (``(n, N, 3)`` nm for molecules, ``(n, D)`` otherwise) and ``log_prob``.

        Importance weights from an internal-coordinate generator count only samples with
        ``flow.is_canonical`` (``molgen sample`` does this), see
        :mod:`molgen.generators.internal`.
        """
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        x, log_prob = self.flow.sample(n, generator=generator)
        if self.is_molecule:
            x = x.reshape(n, self.system.n_atoms, 3)
        return x, log_prob

    def log_prob(self, x: Tensor) -> Tensor:
        """``log p_G(x)`` ``(n,)`` of samples shaped as :meth:`sample` returns them (or flat).

        An internal-coordinate generator covers the canonical labelling of each methyl
        group's hydrogens (``flow.canonical``); relabel frames from elsewhere (MD,
        parallel tempering) with it first, or most get density 0 (``-inf``).
        """
        return self.flow.log_prob(self._flat(torch.as_tensor(x)))

    def save(self, path: str | Path) -> None:
        """Write the generator (system name, options, weights) atomically, weights-only."""
        options = {key: value for key, value in asdict(self.config).items() if value is not None}
        payload = {
            "format": _FORMAT,
            "system": self.system.name,
            "config": options,
            "dtype": str(self.context_dtype).removeprefix("torch."),
            "state": self.flow.state_dict(),
        }
        torch_save_atomic(path, payload)

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> Generator:
        """Read a file written by :meth:`save` (``weights_only=True``)."""
        path = Path(path)
        if not path.is_file():
            raise InputFileError(f"{path}: generator file not found")
        try:
            payload = torch.load(path, map_location=device, weights_only=True)
        except Exception as error:
            reason = " ".join(str(error).split())[:200]
            raise InputFileError(f"{path}: not a weights-only generator file ({reason})") from error
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise InputFileError(f"{path}: not a file written by molgen.Generator.save")
        config = payload["config"]
        architecture = {
            key: config[key]
            for key in ("width", "repeats", "hydrogen_width", "hydrogen_repeats")
            if key in config
        }
        generator = cls(
            payload["system"],
            hydrogens=config.get("hydrogens", "flow"),
            coordinates=config.get("coordinates", "internal"),
            dtype=getattr(torch, payload["dtype"]),
            **architecture,
        )
        generator.flow.load_state_dict(payload["state"])
        return generator.to(device)

    @classmethod
    def from_run(cls, run_dir: str | Path, checkpoint: str | Path | None = None) -> Generator:
        """The generator of a ``molgen train`` run directory (default: its last checkpoint)."""
        from molgen.sampling.generator import load_run

        run = load_run(run_dir, checkpoint)
        generator = cls.__new__(cls)
        nn.Module.__init__(generator)
        generator.system, generator.config, generator.flow = run.system, run.config.flow, run.flow
        return generator
