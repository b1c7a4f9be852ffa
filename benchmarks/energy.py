"""Energy + forces throughput: the batched torch energy against OpenMM, side by side.

Torch: configurations per second of ``U(x)`` and ``-∂U/∂x`` (autograd) on batches
of perturbed copies of a structure, per dtype, eagerly and optionally compiled
with ``torch.compile``. OpenMM: one configuration per ``setPositions`` +
``getState(energy, forces)`` call, on the Reference and CPU platforms, from the
same psf/prm files. Each rate is the median over repeats. Speed-ups compare the same
precision on both sides: torch float64 against OpenMM's Reference platform (double
precision), torch float32 against its CPU platform (single precision).

Run it with ``molgen bench energy --system dialanine``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

import numpy as np
import torch

from forcefields.devices import finish_device_work

__all__ = [
    "benchmark_energy",
    "openmm_precision",
    "openmm_rate",
    "same_precision_ratios",
    "torch_rate",
]


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


def openmm_rate(
    system, frames: np.ndarray, platform: str, repeats: int = 5, threads: int = 1
) -> float:
    """Median configurations/s of one-at-a-time OpenMM energy + forces on ``frames``
    (``threads``: of the CPU platform)."""
    import openmm
    from openmm import unit

    properties = {"Threads": str(threads)} if platform == "CPU" else {}
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
    threads: int = 1,
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
        threads: threads of OpenMM's CPU platform (set torch's with ``torch.set_num_threads``).
        progress: optional callable receiving one line per measurement.
    """
    import forcefields
    from forcefields.openmm_oracle import charmm_openmm_system

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
    system, _ = charmm_openmm_system(psf, prm)
    frames = _perturbed(reference, openmm_frames, seed)
    for platform in openmm_platforms:
        rate = openmm_rate(system, frames, platform, threads=threads)
        result["openmm"][platform] = rate
        say(f"openmm {platform:<15} one at a time: {rate:>14,.0f} configs/s")
    result["openmm_precision"] = {name: openmm_precision(name) for name in openmm_platforms}
    result["ratios"] = same_precision_ratios(result, str(max(batches)))
    return result


def openmm_precision(platform: str) -> str:
    """``"double"`` for an OpenMM platform that computes in double precision (Reference),
    ``"single"`` for one that cannot (CPU; CUDA and OpenCL in their default mode)."""
    import openmm

    supports_double = openmm.Platform.getPlatformByName(platform).supportsDoublePrecision()
    return "double" if supports_double and platform == "Reference" else "single"


def same_precision_ratios(result: dict, batch: str) -> dict[str, dict]:
    """Speed-ups of torch over OpenMM with both sides in the same precision.

    For each torch dtype, its fastest variant (eager or compiled) at ``batch`` over the
    fastest OpenMM platform of that precision (float64 against double, float32 against
    single); a dtype without such a platform in ``result`` gets no entry.

    Returns ``{dtype: {"torch": label, "openmm": platform, "ratio": r}}``.
    """
    precision_of = {"float64": "double", "float32": "single"}
    ratios = {}
    for dtype, precision in precision_of.items():
        torch_rates = {
            label: rates[batch]
            for label, rates in result["torch"].items()
            if label.split("+")[0] == dtype and batch in rates
        }
        platforms = {
            name: rate
            for name, rate in result["openmm"].items()
            if result["openmm_precision"][name] == precision
        }
        if not torch_rates or not platforms:
            continue
        label = max(torch_rates, key=torch_rates.get)
        platform = max(platforms, key=platforms.get)
        ratios[dtype] = {
            "torch": label,
            "openmm": platform,
            "ratio": torch_rates[label] / platforms[platform],
        }
    return ratios
