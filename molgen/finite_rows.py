"""Evaluate a row-wise function only on the rows whose inputs are finite.

A generated sample that overflowed holds NaN or infinite coordinates. The energy, the
alignment penalty and the spline layers' inverse refuse such inputs for the whole batch,
so one bad sample would end a training step or a sampling call. The helper here hands
the function only the finite rows and gives the others NaN, so the bad sample gets a
NaN density or energy (skipped or weighted zero downstream) instead.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["finite_rows", "on_finite_rows"]

RowResult = torch.Tensor | tuple[torch.Tensor, ...]


def finite_rows(*tensors: torch.Tensor | None) -> torch.Tensor:
    """``(B,)`` bool: row ``b`` of every tensor ``(B, ...)`` is finite (``None`` skipped)."""
    present = [tensor for tensor in tensors if tensor is not None]
    finite = torch.ones(present[0].shape[0], dtype=torch.bool, device=present[0].device)
    for tensor in present:
        finite = finite & torch.isfinite(tensor.flatten(1)).all(dim=1)
    return finite


def on_finite_rows(function: Callable[..., RowResult], *tensors: torch.Tensor | None) -> RowResult:
    """``function(*tensors)`` computed on the rows where every tensor is finite.

    ``tensors`` all have ``B`` rows (``None`` is passed through as ``None``); ``function``
    returns a tensor ``(B, ...)`` or a tuple of them and must treat each row on its own and
    accept an empty batch. Rows with a NaN or infinite input are NaN in every output;
    differentiable through the finite rows.
    """
    finite = finite_rows(*tensors)
    if bool(finite.all()):
        return function(*tensors)
    inside = function(*(None if tensor is None else tensor[finite] for tensor in tensors))
    parts = inside if isinstance(inside, tuple) else (inside,)
    spread = tuple(
        part.new_full((finite.shape[0], *part.shape[1:]), torch.nan).index_put((finite,), part)
        for part in parts
    )
    return spread if isinstance(inside, tuple) else spread[0]
