"""Let observables take and return either numpy arrays or torch tensors."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

__all__ = ["ArrayLike", "to_torch", "like"]

ArrayLike = TypeVar("ArrayLike", np.ndarray, torch.Tensor)


def to_torch(values: np.ndarray | torch.Tensor) -> torch.Tensor:
    """``values`` as a tensor; a numpy array is wrapped without copying."""
    return values if isinstance(values, torch.Tensor) else torch.as_tensor(np.asarray(values))


def like(result: torch.Tensor, template: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """``result`` as the same kind of array as ``template`` (numpy in, numpy out)."""
    return result if isinstance(template, torch.Tensor) else result.detach().cpu().numpy()
