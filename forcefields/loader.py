"""``forcefields.load``: the one call that turns CHARMM files into an :class:`Energy`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from forcefields.charmm_reader import PathLike, read_charmm
from forcefields.devices import resolve_device
from forcefields.energy import Energy
from forcefields.errors import ConfigError, InputFileError, ShapeMismatchError
from forcefields.option_values import is_real_number
from forcefields.parameters import ForceFieldParameters

__all__ = ["load"]

_ALIGN_KEYS = {"reference", "mode", "weight", "atoms", "max_angle", "mass_weighted"}


def _atom_indices(atoms: Any) -> np.ndarray:
    """``align.atoms`` given as a list of atom indices, as an ``(M,)`` int64 array."""
    try:
        indices = np.asarray(atoms)
    except ValueError:
        indices = np.asarray(None)
    if indices.ndim != 1 or indices.dtype.kind not in "iu":
        raise ConfigError(
            f"align.atoms: expected 'all', 'heavy' or a list of integer atom indices, got {atoms!r}"
        )
    return indices.astype(np.int64)


def _alignment_penalty(options: Mapping[str, Any], parameters: ForceFieldParameters):
    """An :class:`AlignmentPenalty` from the ``align`` options of :func:`load`."""
    from forcefields.alignment import AlignmentPenalty

    unknown = set(options) - _ALIGN_KEYS
    if unknown:
        raise ConfigError(f"align.{sorted(unknown)[0]}: unknown key (known: {sorted(_ALIGN_KEYS)})")
    if "reference" not in options:
        raise ConfigError("align.reference: required (coordinates or a structure file)")
    reference = options["reference"]
    if isinstance(reference, str | Path):
        import mdtraj

        try:
            reference = mdtraj.load(str(reference)).xyz[0]
        except Exception as error:
            reason = " ".join(str(error).split())[:300]
            raise InputFileError(
                f"align.reference: {reference}: cannot read it ({reason})"
            ) from error
    try:
        reference = torch.as_tensor(np.asarray(reference, dtype=np.float64))
    except (TypeError, ValueError) as error:
        raise ConfigError(
            f"align.reference: expected (N, 3) coordinates in nm or a structure file, got "
            f"{_short(reference)}"
        ) from error
    if reference.ndim == 2 and reference.shape[0] != parameters.n_atoms:
        raise ShapeMismatchError(
            f"align.reference: {reference.shape[0]} atoms, but {parameters.source} has "
            f"{parameters.n_atoms}"
        )
    atoms = options.get("atoms", "all")
    if atoms == "all":
        atoms = None
    elif atoms == "heavy":
        atoms = torch.as_tensor(parameters.heavy_atoms)
    else:
        atoms = torch.as_tensor(_atom_indices(atoms))
    mass_weighted = options.get("mass_weighted", False)
    if not isinstance(mass_weighted, bool):
        raise ConfigError(f"align.mass_weighted: expected true or false, got {mass_weighted!r}")
    masses = torch.as_tensor(parameters.masses) if mass_weighted else None
    keywords = {key: _number(options, key) for key in ("weight", "max_angle") if key in options}
    if "mode" in options:
        keywords["mode"] = options["mode"]
    return AlignmentPenalty(reference, atoms=atoms, masses=masses, **keywords)


def _number(options: Mapping[str, Any], key: str) -> float:
    """``options[key]`` as a float, or a :class:`ConfigError` naming ``align.key``."""
    value = options[key]
    if not is_real_number(value):
        raise ConfigError(f"align.{key}: expected a number, got {value!r}")
    return float(value)


def _short(value: Any) -> str:
    """``repr(value)``, cut to 80 characters for an error message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def load(
    psf: PathLike,
    prm: PathLike | Sequence[PathLike],
    dtype: torch.dtype = torch.float64,
    clip: Mapping[str, float | None] | str | None = None,
    align: Mapping[str, Any] | None = None,
    device: torch.device | str = "cpu",
) -> Energy:
    """Build the batched energy of the molecule in ``psf`` with parameters ``prm``.

    Arguments:
        psf: CHARMM topology file.
        prm: one CHARMM parameter file or a list of them.
        dtype: ``torch.float64`` (agrees with OpenMM to round-off) or ``torch.float32``.
        clip: per-term gradient clipping thresholds, ``"default"``, or ``None`` for the
            exact energy (see :mod:`forcefields.clipping`).
        align: options of the alignment penalty, or ``None`` for none:
            ``reference`` (required: ``(N, 3)`` nm array, or a structure file mdtraj
            reads), ``mode`` (``"thesis"`` or ``"rigid"``), ``weight`` (kJ/mol/nm²),
            ``atoms`` (``"all"``, ``"heavy"`` or a list of indices), ``max_angle``
            (rad), ``mass_weighted`` (bool); see
            :class:`forcefields.alignment.AlignmentPenalty`.
        device: where the energy lives (``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a
            :class:`torch.device`).

    Returns:
        The :class:`Energy` module.

    Raises:
        InputFileError, MissingParameterError: bad files. ConfigError: bad options.
        ShapeMismatchError: an ``align`` reference with another number of atoms.
    """
    if dtype not in (torch.float32, torch.float64):
        raise ConfigError(f"dtype: expected torch.float32 or torch.float64, got {dtype}")
    device = resolve_device(device)
    if clip is not None and not isinstance(clip, str | Mapping):
        raise ConfigError(f"clip: expected a mapping, 'default' or None, got {clip!r}")
    if align is not None and not isinstance(align, Mapping):
        raise ConfigError(f"align: expected a mapping of options, got {align!r}")
    parameters = read_charmm(psf, prm)
    alignment = None if align is None else _alignment_penalty(align, parameters)
    return Energy(parameters, clip=clip, alignment=alignment).to(device=device, dtype=dtype)
