"""A Gaussian target and a flow that can represent it exactly (diagonal scale + bias)."""

from __future__ import annotations

import math

import torch

from molgen.flows import Bias, Composite, Diagonal, Flow

TARGET_MEAN = torch.tensor([0.5, -1.0], dtype=torch.float64)
TARGET_STD = torch.tensor([1.5, 0.7], dtype=torch.float64)


def target_energy(x: torch.Tensor) -> torch.Tensor:
    """Reduced energy ``(B,)`` of the target ``N(TARGET_MEAN, diag(TARGET_STD^2))``."""
    return (0.5 * ((x - TARGET_MEAN) / TARGET_STD) ** 2).sum(dim=1)


def target_samples(n: int, seed: int) -> torch.Tensor:
    """Exact target samples ``(n, 2)``."""
    noise = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return TARGET_MEAN + TARGET_STD * noise


def gaussian_flow(std: torch.Tensor, mean: torch.Tensor) -> Flow:
    """Float64 flow whose density is ``N(mean, diag(std^2))``."""
    diagonal, bias = Diagonal(2), Bias(2)
    flow = Flow(Composite(diagonal, bias), 2).double()
    with torch.no_grad():
        diagonal.unconstrained_log_scale.copy_(torch.atanh(torch.log(std)))
        bias.shift.copy_(mean)
    return flow


def scale_and_shift_gradients(flow: Flow, loss: torch.Tensor) -> torch.Tensor:
    """Gradient ``(4,)`` of ``loss`` in the (unconstrained) log-scales, then the shifts."""
    diagonal, bias = flow.transform.layers
    parameters = [diagonal.unconstrained_log_scale, bias.shift]
    return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, parameters)])


def log_normaliser() -> float:
    """``log Z_B`` of :func:`target_energy`."""
    return float(torch.log(TARGET_STD).sum()) + math.log(2 * math.pi)
