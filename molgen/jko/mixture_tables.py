"""The large-scale WGF Gaussian-mixture experiments: their table and their random draws."""

from __future__ import annotations

import zlib

import torch
from torch import Tensor

__all__ = ["MIXTURE_TABLE", "PUBLISHED_MIXTURE_KEYS", "keyed_mixture_means"]

MIXTURE_TABLE = {
    2: (5, 10.0),
    4: (6, 10.0),
    6: (7, 10.0),
    8: (8, 10.0),
    10: (9, 10.0),
    12: (10, 10.0),
    13: (10, 10.0),
    32: (10, 6.0),
}
"""Dimension -> (components, side of the cube of means) of the large-scale WGF mixture
experiment (Table 1); other dimensions use (10, 10)."""

PUBLISHED_MIXTURE_KEYS = {2: "venus", 4: "earth", 6: "mars", 8: "saturn", 10: "jupiter", 12: "uran"}
"""Dimension -> random key of the large-scale WGF mixture experiments (their
``configs/convergence_comparison_dim_D.yml``); ``problem.mixture_key: published`` draws their
five mixtures (seeds 0-4)."""


def keyed_mixture_means(key: str, components: int, dim: int, width: float, seed: int) -> Tensor:
    """Mixture means drawn as the large-scale WGF experiments drew mixture ``seed`` of ``dim``.

    Their seed is the CRC-32 of ``"{key}@{dim}@{seed}pytorch"`` and the means are the first
    float32 draw of torch's CPU generator after seeding, uniform on :math:`[-l/2, l/2]^D`
    (PetrMokrov/Large-Scale-Wasserstein-Gradient-Flows, ``src/experiments/manual_random.py``
    and ``_convergence.py``); they agree with theirs to float32 rounding (below 5e-7, from
    computing :math:`(u - 1/2)\\,l` rather than :math:`-l/2 + u\\,l`). ``key``
    ``"published"`` is the key of their experiment in ``dim``. Returns shape
    ``(components, dim)`` in the default dtype and device.

    Raises:
        KeyError: ``published`` for a dimension they did not run.
    """
    if key == "published":
        key = PUBLISHED_MIXTURE_KEYS[dim]
    generator = torch.Generator().manual_seed(zlib.crc32(f"{key}@{dim}@{seed}pytorch".encode()))
    uniforms = torch.rand(components, dim, generator=generator, dtype=torch.float32, device="cpu")
    return ((uniforms - 0.5) * width).to(torch.get_default_dtype()).to(torch.empty(0).device)
