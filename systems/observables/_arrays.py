"""Let observables take and return either numpy arrays or torch tensors."""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np
import torch

__all__ = ["ArrayLike", "to_torch", "like", "wrap_angle"]

ArrayLike = TypeVar("ArrayLike", np.ndarray, torch.Tensor)


def to_torch(values: np.ndarray | torch.Tensor) -> torch.Tensor:
    """``values`` as a tensor; a numpy array is wrapped without copying."""
    return values if isinstance(values, torch.Tensor) else torch.as_tensor(np.asarray(values))


def like(result: torch.Tensor, template: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """``result`` as the same kind of array as ``template`` (numpy in, numpy out)."""
    return result if isinstance(template, torch.Tensor) else result.detach().cpu().numpy()


def wrap_angle(values: torch.Tensor) -> torch.Tensor:
    """Angles in radians mapped into (-π, π]; values already there are returned unchanged."""
    wrapped = math.pi - torch.remainder(math.pi - values, 2.0 * math.pi)
    return torch.where((values > -math.pi) & (values <= math.pi), values, wrapped)
