"""``forcefields.load``: the one call that turns CHARMM files into an :class:`Energy`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from forcefields.charmm_reader import PathLike, read_charmm
from forcefields.energy import Energy
from forcefields.errors import ConfigError

__all__ = ["load"]


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
        align: options of the alignment penalty (see
            :class:`forcefields.alignment.AlignmentPenalty`), or ``None`` for none.
            ``atoms`` may be ``"all"``, ``"heavy"`` or a list of indices.
        device: where the energy lives.

    Returns:
        The :class:`Energy` module.

    Raises:
        InputFileError, MissingParameterError: bad files. ConfigError: bad options.
    """
    if dtype not in (torch.float32, torch.float64):
        raise ConfigError(f"dtype: expected torch.float32 or torch.float64, got {dtype}")
    parameters = read_charmm(psf, prm)
    alignment = None
    if align is not None:
        from forcefields.alignment import alignment_from_options

        alignment = alignment_from_options(align, parameters)
    return Energy(parameters, clip=clip, alignment=alignment).to(device=device, dtype=dtype)
