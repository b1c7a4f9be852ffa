"""Reduced energies ``βU`` of stored frames, evaluated in batches without gradients."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from forcefields.errors import NonFiniteCoordinatesError

__all__ = ["reduced_energies"]


def _floating_dtype(energy) -> torch.dtype:
    """The dtype of a module's floating-point buffers or parameters (float64 otherwise)."""
    if isinstance(energy, torch.nn.Module):
        for tensor in (*energy.buffers(), *energy.parameters()):
            if tensor.is_floating_point():
                return tensor.dtype
    return torch.float64


def reduced_energies(
    energy: Callable[[torch.Tensor], torch.Tensor],
    frames: np.ndarray,
    beta: float,
    batch_size: int = 4096,
    skip: np.ndarray | None = None,
) -> np.ndarray:
    """``β U(x)`` ``(B,)`` (dimensionless) of frames ``(B, N, 3)`` nm (or toy points ``(B, D)``).

    Arguments:
        energy: batched potential, e.g. ``System.energy()`` or ``forcefields.load(psf, prm)``:
            coordinates → ``(batch,)`` kJ/mol (a toy: dimensionless).
        frames: coordinates of the samples.
        beta: ``1/(k_B T)`` in mol/kJ (a toy: its inverse temperature).
        batch_size: frames per energy call.
        skip: ``(B,)`` bool, frames not evaluated (NaN in the result), e.g. samples of
            zero weight whose coordinates overflowed.

    Raises:
        NonFiniteCoordinatesError: a frame not skipped has NaN or infinite coordinates.
    """
    frames = np.asarray(frames, dtype=np.float64)
    evaluated = np.ones(len(frames), dtype=bool) if skip is None else ~np.asarray(skip)
    finite = np.isfinite(frames).all(axis=tuple(range(1, frames.ndim)))
    if not finite[evaluated].all():
        bad = np.flatnonzero(evaluated & ~finite)
        raise NonFiniteCoordinatesError(
            f"frames: NaN or infinite coordinates in frame(s) {bad[:10].tolist()}"
        )
    dtype = _floating_dtype(energy)
    kept = frames[evaluated]
    values = []
    with torch.no_grad():
        for start in range(0, len(kept), batch_size):
            batch = torch.as_tensor(kept[start : start + batch_size], dtype=dtype)
            values.append(energy(batch).detach().to(torch.float64).cpu().numpy())
    result = np.full(len(frames), np.nan)
    result[evaluated] = beta * np.concatenate(values) if values else np.zeros(0)
    return result
