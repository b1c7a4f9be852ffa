"""Energy + forces throughput: the batched torch energy against OpenMM, side by side.

Torch: configurations per second of ``U(x)`` and ``-∂U/∂x`` (autograd) on batches
of perturbed copies of a structure, per dtype, eagerly and optionally compiled
with ``torch.compile``. OpenMM: one configuration per ``setPositions`` +
``getState(energy, forces)`` call, on the Reference and CPU platforms, from the
same psf/prm files. Each rate is the median over repeats.

Run it with ``molgen bench energy --system dialanine``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

import numpy as np
import torch

from forcefields.devices import finish_device_work

__all__ = ["torch_rate", "openmm_rate", "benchmark_energy"]


def _perturbed(reference: np.ndarray, count: int, seed: int, noise: float = 0.005) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return reference[None] + rng.normal(scale=noise, size=(count, *reference.shape))


def torch_rate(
    energy_fn,
    frames: torch.Tensor,
    repeats: int = 7,
    min_seconds: float = 0.2,
) -> float:
    """Median configurations/s of energy + forces of ``energy_fn`` on ``frames`` ``(B, N, 3)``."""
    device = frames.device

    def step() -> None:
        x = frames.detach().requires_grad_(True)
        (gradient,) = torch.autograd.grad(energy_fn(x).sum(), x)
        gradient.neg_()

    for _ in range(3):
        step()
    finish_device_work(device)
    start = time.perf_counter()
    calls = 0
    while time.perf_counter() - start < min_seconds or calls < 2:
        step()
        calls += 1
    finish_device_work(device)
    per_call = (time.perf_counter() - start) / calls
    inner = max(1, int(min_seconds / per_call))
    rates = []
    for _ in range(repeats):
        finish_device_work(device)
        start = time.perf_counter()
        for _ in range(inner):
            step()
        finish_device_work(device)
        rates.append(inner * frames.shape[0] / (time.perf_counter() - start))
    return statistics.median(rates)


def openmm_rate(system, frames: np.ndarray, platform: str, repeats: int = 5) -> float:
    """Median configurations/s of one-at-a-time OpenMM energy + forces on ``frames``."""
    import openmm
    from openmm import unit

    properties = {"Threads": "1"} if platform == "CPU" else {}
    context = openmm.Context(
        system,
        openmm.VerletIntegrator(0.001),
        openmm.Platform.getPlatformByName(platform),
        properties,
    )
    positions = [openmm.unit.Quantity(frame, unit.nanometer) for frame in frames]
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for position in positions:
            context.setPositions(position)
            state = context.getState(getEnergy=True, getForces=True)
            state.getPotentialEnergy()
            state.getForces(asNumpy=True)
        rates.append(len(frames) / (time.perf_counter() - start))
    return statistics.median(rates)


def benchmark_energy(
    psf,
    prm,
    reference: np.ndarray,
    batches: Sequence[int] = (1, 64, 1024, 4096),
    dtypes: Sequence[str] = ("float32", "float64"),
    compile: bool = False,
    device: str = "cpu",
    openmm_platforms: Sequence[str] = ("Reference", "CPU"),
    openmm_frames: int = 2000,
    seed: int = 0,
    progress=None,
) -> dict:
    """Measure torch and OpenMM rates in one run; returns the ``molgen bench energy`` JSON.

    Arguments:
        psf, prm: CHARMM files. reference: ``(N, 3)`` nm structure to perturb.
        batches: torch batch sizes. dtypes: torch dtypes by name.
        compile: also measure ``torch.compile`` of the energy at the largest batch
            (key ``"<dtype>+compile"``; compiling takes tens of seconds per dtype on a CPU).
        device: torch device. openmm_platforms: OpenMM platforms to time.
        openmm_frames: configurations per OpenMM repeat.
        progress: optional callable receiving one line per measurement.
    """
    import forcefields
    from forcefields.openmm_oracle import build_openmm_system

    say = progress or (lambda line: None)
    result: dict = {"batch": list(batches), "torch": {}, "openmm": {}}
    for dtype_name in dtypes:
        dtype = getattr(torch, dtype_name)
        energy = forcefields.load(psf, prm, dtype=dtype, device=device)
        variants = {dtype_name: (energy, batches)}
        if compile:
            compiled = torch.compile(energy, dynamic=False)
            variants[f"{dtype_name}+compile"] = (compiled, [max(batches)])
        for label, (fn, sizes) in variants.items():
            result["torch"][label] = {}
            for batch in sizes:
                frames = torch.as_tensor(
                    _perturbed(reference, batch, seed), dtype=dtype, device=device
                )
                rate = torch_rate(fn, frames)
                result["torch"][label][str(batch)] = rate
                say(f"torch {label:<16} batch {batch:>7}: {rate:>14,.0f} configs/s")
    system, _ = build_openmm_system(psf, prm)
    frames = _perturbed(reference, openmm_frames, seed)
    for platform in openmm_platforms:
        rate = openmm_rate(system, frames, platform)
        result["openmm"][platform] = rate
        say(f"openmm {platform:<15} one at a time: {rate:>14,.0f} configs/s")
    largest = str(max(batches))
    best_openmm = max(result["openmm"].values())
    float32_rates = [
        rates[largest] for label, rates in result["torch"].items() if label.startswith("float32")
    ]
    if float32_rates:
        result["ratio"] = max(float32_rates) / best_openmm
    return result
