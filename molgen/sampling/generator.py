"""A trained generator loaded from a run directory, and per-sample arrays of its draws."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import systems
from forcefields.alignment import AlignmentPenalty
from molgen.finite_rows import finite_rows, on_finite_rows
from molgen.flows.flow import Flow
from molgen.training.checkpoints import CheckpointError, latest_checkpoint, load_checkpoint
from molgen.training.config import TrainConfig, load_config
from molgen.training.model import build_flow
from molgen.training.rng import derive_seed
from molgen.training.run_state import setup_differences
from molgen.training.target import (
    DTYPES,
    ReducedEnergy,
    mode_labels,
    to_coordinates,
)
from systems.registry import System

__all__ = ["LATENT_BLOCK", "LoadedRun", "draw_samples", "latent_points", "load_run"]

LATENT_BLOCK = 1024
"""Latent draws come in blocks of this many points, each from its own seeded generator,
so the latent of sample ``k`` depends only on the seed and ``k`` (not on chunk sizes)."""


@dataclass
class LoadedRun:
    """A run's generator, ready to sample.

    Attributes:
        config: the run's config.
        system: its system.
        flow: the generator with the checkpoint's weights (eval mode).
        checkpoint: the checkpoint file used.
        step: the global training step of that checkpoint.
        energy: reduced energy at the system temperature, unclipped, with the alignment
            options of the phase the checkpoint was saved in.
    """

    config: TrainConfig
    system: System
    flow: Flow
    checkpoint: Path
    step: int
    energy: ReducedEnergy


def load_run(
    run_dir: str | Path, checkpoint: str | Path | None = None, device: str = "cpu"
) -> LoadedRun:
    """Load ``run_dir/config.yaml`` and a checkpoint (default: ``final.pt`` or the latest).

    ``run_dir`` may also be a ``molgen run`` folder, whose training run is ``train/``.
    """
    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").exists() and (run_dir / "pipeline.json").is_file():
        run_dir = run_dir / "train"
    config = load_config(run_dir / "config.yaml")
    path = (
        Path(checkpoint) if checkpoint is not None else latest_checkpoint(run_dir / "checkpoints")
    )
    if path is None:
        raise CheckpointError(f"{run_dir / 'checkpoints'}: no checkpoint")
    payload = load_checkpoint(path, device)
    _check_same_setup(path, payload, config, run_dir)
    system = systems.load(config.system)
    flow = build_flow(config.flow, system.dimension, DTYPES[config.dtype], system).to(device)
    try:
        flow.load_state_dict(payload["model"])
    except RuntimeError as error:
        raise CheckpointError(f"{path}: weights do not fit the run's flow ({error})") from error
    flow.eval()
    # the phase the checkpoint was saved in (the last one for files without a position)
    index = min(int(payload.get("position", {}).get("phase", -1)), len(config.phases) - 1)
    index = index % len(config.phases)
    align = config.phases[index].align
    energy = ReducedEnergy(
        system, 1.0, config.energy_dtype, device, None, align, f"phases[{index}]"
    )
    return LoadedRun(config, system, flow, path, int(payload["step"]), energy)


def _check_same_setup(path: Path, payload: dict, config: TrainConfig, run_dir: Path) -> None:
    """Raise :class:`CheckpointError` when the checkpoint was trained for another system,
    flow or dtype than ``run_dir``'s config (its weights could load and be weighted
    against the wrong energy)."""
    differences = setup_differences(payload, config)
    if differences is None or not differences[0]:
        return
    differing, saved = differences
    raise CheckpointError(
        f"{path}: trained for another run than {run_dir / 'config.yaml'} (different "
        f"{', '.join(differing)}; system {saved.get('system')!r} there, "
        f"{config.system!r} here)"
    )


def latent_points(seed: int, start: int, stop: int, dim: int, dtype: torch.dtype) -> torch.Tensor:
    """Latents ``(stop - start, dim)`` of samples ``start .. stop-1`` for ``seed``."""
    blocks = []
    for block in range(start // LATENT_BLOCK, (stop - 1) // LATENT_BLOCK + 1):
        generator = torch.Generator().manual_seed(derive_seed(seed, "latent", block))
        blocks.append(torch.randn(LATENT_BLOCK, dim, generator=generator, dtype=torch.float64))
    offset = (start // LATENT_BLOCK) * LATENT_BLOCK
    return torch.cat(blocks)[start - offset : stop - offset].to(dtype)


@torch.no_grad()
def draw_samples(run: LoadedRun, seed: int, start: int, stop: int) -> dict[str, np.ndarray]:
    r"""Samples ``start .. stop-1`` and their per-sample arrays.

    Keys: ``x`` ``(n, D)`` (flat; nm for molecules), ``log_p_g`` (nats), ``u_b``
    (:math:`\beta` times the target energy the run trained towards: :math:`U_B` plus the
    alignment penalty when the checkpoint's phase had one; dimensionless), ``energy`` (the
    physical :math:`U_B` without any alignment penalty: kJ/mol for molecules), ``log_w``
    (unnormalised log weights of the physical ensemble, :math:`-u_b - \log p_G - \log
    Z_{align}` with the alignment's rigid-motion integral of DESIGN decision 3; ``-inf``
    for a sample outside the generator's canonical labelling of methyl hydrogens, see
    :mod:`molgen.generators.internal`, and for a sample whose coordinates overflowed,
    whose ``energy``, ``u_b`` and ``log_z_align`` are NaN), ``log_z_align`` (only with an
    alignment penalty:
    :math:`\log Z_{align}` per sample, see :func:`_log_z_align`), ``modes``
    (int labels, -1 if the system has none), one array per system observable under its
    name, and the aliases ``log_prob`` (= ``log_p_g``) and ``log_weight`` (= ``log_w``).
    With deterministic hydrogens ``log_p_g`` is the heavy atoms' density, so ``log_w``
    weights the heavy atoms towards :math:`\exp(-\beta U(x_C, G^H(x_C)))`, which is
    the thesis's :math:`\bar p` (App. A.2, eq 84) when ``G^H`` places the hydrogens at
    their minimum, not the physical ensemble.
    """
    device = next(run.flow.parameters()).device
    z = latent_points(seed, start, stop, run.flow.latent_dim, next(run.flow.parameters()).dtype).to(
        device
    )
    x, log_p_g = run.flow.sample_from_latent(z)
    target = run.energy.physical(x).double()
    u_b = run.energy.beta * target
    log_w = -u_b - log_p_g.double()
    energy = target
    alignment = getattr(run.energy.energy, "alignment", None)
    log_z_align = None
    if alignment is not None:
        coordinates = to_coordinates(run.system, x).to(run.energy.dtype)
        energy = target - on_finite_rows(alignment, coordinates).double()
        # every frame takes its place in its latent block's rotation draws (an overflowed
        # one at the origin, its value then NaN), so a sample's value never depends on
        # which others overflowed
        finite = finite_rows(coordinates)
        placed = torch.where(finite[:, None, None], coordinates, torch.zeros_like(coordinates))
        log_z_align = _log_z_align(alignment, placed, run.energy.beta, seed, start)
        log_z_align = torch.where(finite, log_z_align, torch.nan)
        log_w = log_w - log_z_align
    is_canonical = getattr(run.flow, "is_canonical", None)
    if is_canonical is not None:
        log_w = torch.where(is_canonical(x), log_w, -torch.inf)
    overflowed = ~torch.isfinite(x).all(dim=1)
    log_w = torch.where(overflowed, -torch.inf, log_w)
    labels = mode_labels(run.system, x)
    arrays = {
        "x": x.cpu().numpy(),
        "log_p_g": log_p_g.double().cpu().numpy(),
        "u_b": u_b.cpu().numpy(),
        "energy": energy.cpu().numpy(),
        "log_w": log_w.cpu().numpy(),
        "modes": (labels.cpu().numpy() if labels is not None else np.full(stop - start, -1)),
    }
    if log_z_align is not None:
        arrays["log_z_align"] = log_z_align.cpu().numpy()
    arrays["log_prob"], arrays["log_weight"] = arrays["log_p_g"], arrays["log_w"]
    coordinates = to_coordinates(run.system, x)
    for name, observable in run.system.observables.items():
        if name in arrays:
            raise ValueError(f"observable name {name!r} collides with a per-sample array")
        arrays[name] = torch.as_tensor(observable(coordinates)).double().cpu().numpy()
    return arrays


def _log_z_align(
    alignment: AlignmentPenalty, coordinates: torch.Tensor, beta: float, seed: int, start: int
) -> torch.Tensor:
    """``log Z_align`` ``(B,)`` (float64) of samples ``start .. start+B-1`` with coordinates
    ``(B, N, 3)`` nm at ``beta`` (mol/kJ).

    The Monte-Carlo rotations of ``thesis`` mode come, for the samples of each latent block,
    from a generator seeded with ``derive_seed(seed, "align", block)`` on the coordinates'
    device: a sample's value depends only on the seed, its index and the device, not on
    the chunk it was drawn in (resumed and re-chunked sampling agree).
    """
    stop = start + len(coordinates)
    values = []
    for block in range(start // LATENT_BLOCK, (stop - 1) // LATENT_BLOCK + 1):
        low = max(start, block * LATENT_BLOCK) - start
        high = min(stop, (block + 1) * LATENT_BLOCK) - start
        generator = torch.Generator(device=coordinates.device)
        generator.manual_seed(derive_seed(seed, "align", block))
        values.append(alignment.log_z_align(coordinates[low:high], beta, generator=generator))
    return torch.cat(values).double()
