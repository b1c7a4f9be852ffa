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

from collections.abc import Mapping
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

import systems
from forcefields.atomic_files import torch_save_atomic
from forcefields.errors import (
    ConfigError,
    InputFileError,
    MolgenError,
    NonFiniteCoordinatesError,
    ShapeMismatchError,
    TooFewSamplesError,
    UnknownNameError,
)
from forcefields.torch_input import load_weights_only
from molgen.estimate.samples import system_temperature
from molgen.sampling.generator import latent_points, load_run
from molgen.training.checkpoints import CHECKPOINT_FORMAT
from molgen.training.config import FlowConfig, check_flow_config
from molgen.training.config_loading import from_mapping
from molgen.training.model import build_flow, fit_standardization
from systems.registry import System

__all__ = ["Generator", "RIGID_ALIGNMENT"]

RIGID_ALIGNMENT = {"mode": "rigid", "atoms": "heavy"}
"""Alignment options whose pose distribution internal-coordinate generators sample."""

_FORMAT = "molgen-generator-1"

_ARCHITECTURE = ("width", "repeats", "hydrogen_width", "hydrogen_repeats")
_HYDROGEN_OPTIONS = ("hydrogen_width", "hydrogen_repeats")


class Generator(nn.Module):
    """A generator for ``system`` (a :class:`systems.System` or a name for ``systems.load``).

    Arguments:
        system: the system.
        hydrogens: molecules only: ``"flow"`` (default) or ``"deterministic"``.
        coordinates: molecules only: ``"internal"`` (default with ``hydrogens="flow"``) or
            ``"cartesian"``; deterministic hydrogens need (and default to) ``"cartesian"``.
        dtype: parameter dtype.
        **architecture: ``width``, ``repeats`` (all systems) and ``hydrogen_width``,
            ``hydrogen_repeats`` (molecules only), positive integers. Defaults:

            - toy systems: a coupling stack of ``repeats`` = 8 repeats of 4 blocks,
              ``width`` = 64;
            - molecules, internal coordinates: spline stacks of ``repeats`` = 4
              [spline, spline, permutation] repeats, ``width`` = 128;
            - molecules, Cartesian coordinates: a heavy-atom coupling stack of
              ``repeats`` = 24 repeats of 4 blocks, ``width`` = 256;
            - hydrogen stage (molecules): ``hydrogen_width`` = 128,
              ``hydrogen_repeats`` = 4.

    Raises :class:`~forcefields.errors.ConfigError` for an unknown option or one that
    does not apply to the system.
    """

    def __init__(
        self,
        system: System | str,
        hydrogens: str | None = None,
        coordinates: str | None = None,
        dtype: torch.dtype = torch.float32,
        **architecture: Any,
    ):
        super().__init__()
        self.system = systems.load(system) if isinstance(system, str) else system
        self.config = _flow_config(self.system, hydrogens, coordinates, architecture)
        self.flow = build_flow(self.config, self.system.dimension, dtype, self.system)

    @classmethod
    def _assemble(cls, system: System, config: FlowConfig, flow: nn.Module) -> Generator:
        """A generator holding an already built ``flow`` of ``config`` for ``system``."""
        generator = cls.__new__(cls)
        nn.Module.__init__(generator)
        generator.system, generator.config, generator.flow = system, config, flow
        return generator

    @property
    def is_molecule(self) -> bool:
        """Whether samples are molecular coordinates ``(n, N, 3)``."""
        return self.system.kind == "molecule"

    @property
    def context_dtype(self) -> torch.dtype:
        """The dtype of the parameters."""
        return next(self.flow.parameters()).dtype

    @property
    def device(self) -> torch.device:
        """The device of the parameters."""
        return next(self.flow.parameters()).device

    def _flat(self, x: Tensor | np.ndarray, caller: str) -> Tensor:
        """Points ``x`` as flat ``(B, D)`` in the parameters' dtype and device.

        Molecules take ``(B, N, 3)`` or ``(B, 3N)`` nm, toys ``(B, D)``; anything else
        raises :class:`~forcefields.errors.ShapeMismatchError` naming both shapes.
        """
        x = torch.as_tensor(x)
        dim = self.system.dimension
        if self.is_molecule:
            n_atoms = self.system.n_atoms
            fits = (x.ndim == 3 and tuple(x.shape[1:]) == (n_atoms, 3)) or (
                x.ndim == 2 and x.shape[1] == dim
            )
            expected = f"(B, {n_atoms}, 3) or (B, {dim})"
        else:
            fits = x.ndim == 2 and x.shape[1] == dim
            expected = f"(B, {dim})"
        if not fits:
            raise ShapeMismatchError(
                f"Generator.{caller}: expected points of shape {expected} for system "
                f"{self.system.name!r}, got {tuple(x.shape)}"
            )
        return x.reshape(x.shape[0], dim).to(device=self.device, dtype=self.context_dtype)

    def fit(self, data: Tensor | np.ndarray) -> Generator:
        """Fit the standardisation (and internal-coordinate cuts) to data ``(M, N, 3)`` nm or
        ``(M, 3N)`` for molecules, ``(M, D)`` for toys, with ``M >= 2`` finite frames whose
        every feature varies; returns ``self``."""
        flat = self._flat(data, "fit").detach()
        if flat.shape[0] < 2:
            raise TooFewSamplesError(
                f"Generator.fit: data has {flat.shape[0]} frame(s); the standardisation "
                "needs at least 2"
            )
        if not bool(torch.isfinite(flat).all()):
            bad = (~torch.isfinite(flat)).any(-1).nonzero().flatten()
            raise NonFiniteCoordinatesError(
                f"Generator.fit: data has NaN or infinite values in frame(s) {bad[:10].tolist()}"
            )
        canonical = getattr(self.flow, "canonical", None)
        with torch.no_grad():
            try:
                fit_standardization(self.flow, flat if canonical is None else canonical(flat))
            except ValueError as error:
                raise ValueError(
                    f"Generator.fit: data of shape {tuple(flat.shape)}: {error}"
                ) from error
        return self

    def sample(self, n: int, seed: int | None = None) -> tuple[Tensor, Tensor]:
        """``n >= 1`` samples (``(n, N, 3)`` nm for molecules, ``(n, D)`` otherwise) and
        their ``log_prob`` ``(n,)`` (nats), without an autograd graph (a graph of a large
        draw would hold every layer's activations); a loss that differentiates through
        sampling calls ``generator.flow.sample_from_latent`` itself.

        With ``seed`` the latents are those ``molgen sample --seed`` draws
        (:func:`molgen.sampling.generator.latent_points`: float64 on the CPU, then moved
        to the parameters' device and dtype), so a seed gives the same samples on every
        device and sample ``k`` does not depend on ``n``. Without it they come from the
        global torch RNG of the parameters' device.

        Importance weights from an internal-coordinate generator count only samples with
        ``flow.is_canonical`` (``molgen sample`` does this), see
        :mod:`molgen.generators.internal`.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"Generator.sample: n must be an integer >= 1, got {n!r}")
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0
        ):
            raise ConfigError(f"Generator.sample: seed must be an integer >= 0, got {seed!r}")
        with torch.no_grad():
            if seed is None:
                x, log_prob = self.flow.sample(int(n))
            else:
                z = latent_points(int(seed), 0, int(n), self.flow.latent_dim, self.context_dtype)
                x, log_prob = self.flow.sample_from_latent(z.to(self.device))
        if self.is_molecule:
            x = x.reshape(int(n), self.system.n_atoms, 3)
        return x, log_prob

    def log_prob(self, x: Tensor | np.ndarray) -> Tensor:
        """``log p_G(x)`` ``(B,)`` (nats) of points ``x`` shaped as :meth:`sample` returns
        them (or flat ``(B, 3N)`` for molecules), moved to the parameters' device and dtype.

        An internal-coordinate generator covers the canonical labelling of each methyl
        group's hydrogens (``flow.canonical``); relabel frames from elsewhere (MD,
        parallel tempering) with it first, or most get density 0 (``-inf``).
        """
        return self.flow.log_prob(self._flat(x, "log_prob"))

    def save(self, path: str | Path) -> None:
        """Write the generator (system name and temperature, full flow config, dtype,
        weights) atomically, weights-only; :meth:`load` rebuilds it through ``build_flow`` as
        :meth:`from_run` does."""
        payload = {
            "format": _FORMAT,
            "system": self.system.name,
            "temperature": system_temperature(self.system),
            "config": asdict(self.config),
            "dtype": str(self.context_dtype).removeprefix("torch."),
            "state": self.flow.state_dict(),
        }
        torch_save_atomic(path, payload)

    @classmethod
    def load(
        cls,
        path: str | Path,
        device: str | torch.device = "cpu",
        system: System | str | Path | None = None,
    ) -> Generator:
        """Read a file written by :meth:`save` (``weights_only=True``) onto ``device``.

        Arguments:
            path: the file.
            device: where the generator goes.
            system: the system to attach (a :class:`systems.System`, a name or a
                directory of CHARMM files); default ``systems.load`` of the saved name at
                the saved temperature. Needed for a system built from a directory or
                registered under a name the loading process does not know.

        Raises :class:`~forcefields.errors.InputFileError` naming ``path`` when the file
        is missing, unreadable, or its config or weights do not describe a generator
        (or ``system``).
        """
        path = Path(path)
        if not path.is_file():
            raise InputFileError(f"{path}: generator file not found")
        payload = load_weights_only(path, "generator file")
        if isinstance(payload, dict) and payload.get("format") == CHECKPOINT_FORMAT:
            run = path.parent.parent if path.parent.name == "checkpoints" else "RUN"
            raise InputFileError(
                f"{path}: a molgen train checkpoint; read it with "
                f"Generator.from_run('{run}', checkpoint='{path}')"
            )
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise InputFileError(f"{path}: not a file written by molgen.Generator.save")
        missing = {"system", "config", "dtype", "state"} - set(payload)
        if missing:
            raise InputFileError(f"{path}: generator file lacks {sorted(missing)}")
        config = _saved_config(path, payload["config"])
        dtype = getattr(torch, str(payload["dtype"]), None)
        if not isinstance(dtype, torch.dtype):
            raise InputFileError(f"{path}: unknown dtype {payload['dtype']!r}")
        try:
            if system is None:
                system = systems.load(payload["system"], payload.get("temperature"))
            elif not isinstance(system, System):
                system = systems.load(system, payload.get("temperature"))
            flow = build_flow(config, system.dimension, dtype, system)
        except UnknownNameError as error:
            raise InputFileError(
                f"{path}: {error}; pass the system to Generator.load(..., system=...)"
            ) from error
        except MolgenError as error:
            raise InputFileError(f"{path}: {error}") from error
        try:
            flow.load_state_dict(payload["state"])
        except RuntimeError as error:
            raise InputFileError(
                f"{path}: weights do not fit the saved flow config ({_reason(error)})"
            ) from error
        return cls._assemble(system, config, flow).to(device)

    @classmethod
    def from_run(
        cls,
        run_dir: str | Path,
        checkpoint: str | Path | None = None,
        device: str | torch.device = "cpu",
    ) -> Generator:
        """The generator of a ``molgen train`` run directory (default: its last checkpoint)
        on ``device``."""
        run = load_run(run_dir, checkpoint, str(device))
        return cls._assemble(run.system, run.config.flow, run.flow)


def _flow_config(
    system: System,
    hydrogens: str | None,
    coordinates: str | None,
    architecture: Mapping[str, Any],
) -> FlowConfig:
    """The :class:`FlowConfig` of :class:`Generator`'s arguments, checked for ``system``."""
    unknown = set(architecture) - set(_ARCHITECTURE)
    if unknown:
        raise ConfigError(f"Generator: unknown architecture option {sorted(unknown)[0]!r}")
    if system.kind != "molecule":
        given = [
            name
            for name, value in (("hydrogens", hydrogens), ("coordinates", coordinates))
            if value is not None
        ] + [name for name in _HYDROGEN_OPTIONS if name in architecture]
        if given:
            raise ConfigError(
                f"Generator: option {given[0]!r} applies to molecules only, "
                f"not to the {system.kind} system {system.name!r}"
            )
        return _checked_flow_config({"preset": "double_well", **architecture})
    hydrogens = "flow" if hydrogens is None else hydrogens
    if hydrogens not in ("flow", "deterministic"):
        raise ConfigError(f"Generator hydrogens: {hydrogens!r}, expected flow or deterministic")
    if coordinates is None:
        coordinates = "internal" if hydrogens == "flow" else "cartesian"
    if coordinates not in ("internal", "cartesian"):
        raise ConfigError(f"Generator coordinates: {coordinates!r}, expected internal or cartesian")
    if hydrogens == "deterministic" and coordinates != "cartesian":
        raise ConfigError("Generator coordinates: deterministic hydrogens need 'cartesian'")
    return _checked_flow_config(
        {
            "preset": "molecule",
            "hydrogens": hydrogens,
            "coordinates": coordinates,
            "align": dict(RIGID_ALIGNMENT) if coordinates == "internal" else None,
            **architecture,
        }
    )


def _checked_flow_config(options: dict[str, Any]) -> FlowConfig:
    """A standardising :class:`FlowConfig` of ``options``; a value of the wrong type or
    out of range is a :class:`ConfigError` naming it (``Generator.width: ...``)."""
    config = from_mapping(FlowConfig, {**options, "standardize": True}, "Generator")
    check_flow_config(config, "Generator")
    return config


def _saved_config(path: Path, options: Any) -> FlowConfig:
    """The :class:`FlowConfig` stored in generator file ``path``."""
    names = {field.name for field in fields(FlowConfig)}
    if not isinstance(options, dict) or not set(options) <= names:
        keys = sorted(set(options) - names) if isinstance(options, dict) else options
        raise InputFileError(f"{path}: unknown flow config {keys!r}")
    return FlowConfig(**options)


def _reason(error: Exception) -> str:
    """``error``'s message on one line, at most 200 characters."""
    return " ".join(str(error).split())[:200]
