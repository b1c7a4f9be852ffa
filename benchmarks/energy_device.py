"""The torch energy on an accelerator: correctness against stored OpenMM values, and speed.

Machines with a GPU often lack OpenMM and parmed, so the work is split in two:

* ``export`` (where OpenMM runs): writes the parsed parameters and OpenMM
  Reference per-term energies and forces of perturbed frames to one folder;
* ``measure`` (on the accelerator): rebuilds the energy from those arrays alone,
  compares float64 and float32 with the stored OpenMM values (same tolerances as
  ``molgen validate-ff``) and times energy + forces at large batches.

    python -m benchmarks.energy_device export --system dialanine --out device_data
    python -m benchmarks.energy_device measure --data device_data --device cuda --batch 4096,65536
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from benchmarks.energy import torch_rate
from benchmarks.rerun_command import rerun_command
from forcefields.atomic_files import save_npz_atomic, write_json_atomic
from forcefields.energy import TERM_NAMES, Energy
from forcefields.parameters import load_parameters, save_parameters
from forcefields.validation import (
    DEFAULT_FORCE_TOLERANCE,
    DEFAULT_TOLERANCE,
    Discrepancy,
    _force_scale,
)

__all__ = ["export", "measure"]


def export(system: str, out: Path, frames: int, seed: int) -> None:
    """Parameters, frames and OpenMM Reference terms of ``system`` into ``out``."""
    import systems
    from forcefields.charmm_reader import read_charmm
    from forcefields.openmm_oracle import OpenMMOracle

    molecule = systems.load(system)
    out.mkdir(parents=True, exist_ok=True)
    save_parameters(read_charmm(molecule.psf, molecule.prm), out / "parameters.npz")
    rng = np.random.default_rng(seed)
    scales = np.repeat([0.002, 0.005, 0.02, 0.05], frames // 4)
    x = (
        molecule.positions[None]
        + rng.normal(size=(len(scales), *molecule.positions.shape)) * scales[:, None, None]
    )
    energies, forces = OpenMMOracle(molecule.psf, molecule.prm).terms(x)
    save_npz_atomic(
        out / "reference.npz",
        {
            "frames": x,
            "equilibrium": scales <= 0.005,
            **{f"energy_{k}": v for k, v in energies.items()},
            **{f"forces_{k}": v for k, v in forces.items()},
        },
    )


def _compare(energy: Energy, reference: dict, mask: np.ndarray, device: str) -> dict:
    dtype = energy.dtype
    frames = torch.as_tensor(reference["frames"][mask], dtype=dtype, device=device)
    frames.requires_grad_(True)
    terms = energy.terms(frames)
    (gradient,) = torch.autograd.grad(torch.stack(list(terms.values())).sum(), frames)
    forces_by_term = {k: reference[f"forces_{k}"][mask] for k in TERM_NAMES}
    total_forces = sum(forces_by_term.values())
    result = {
        name: Discrepancy.between(
            terms[name].detach().double().cpu().numpy(), reference[f"energy_{name}"][mask]
        ).to_dict()
        for name in TERM_NAMES
    }
    result["forces"] = Discrepancy.between(
        -gradient.double().cpu().numpy(), total_forces, scale=_force_scale(forces_by_term)
    ).to_dict()
    result["passed"] = (
        all(d["max_rel"] <= DEFAULT_TOLERANCE[dtype] for k, d in result.items() if k in TERM_NAMES)
        and result["forces"]["max_rel"] <= DEFAULT_FORCE_TOLERANCE[dtype]
    )
    return result


def measure(data: Path, device: str, batches: list[int], compile: bool) -> dict:
    """Correctness and configs/s of energy + forces on ``device``."""
    parameters = load_parameters(data / "parameters.npz")
    with np.load(data / "reference.npz") as archive:
        reference = {name: archive[name] for name in archive.files}
    everything = np.ones(len(reference["frames"]), dtype=bool)
    report: dict = {
        "device": torch.cuda.get_device_name(device) if device.startswith("cuda") else device,
        "torch": torch.__version__,
        "validation": {},
        "rates": {},
    }
    for dtype, mask in ((torch.float64, everything), (torch.float32, reference["equilibrium"])):
        energy = Energy(parameters).to(device=device, dtype=dtype)
        name = str(dtype).replace("torch.", "")
        report["validation"][name] = _compare(energy, reference, mask, device)
        variants = {name: energy}
        if compile:
            variants[f"{name}+compile"] = torch.compile(energy, dynamic=False)
        for label, fn in variants.items():
            report["rates"][label] = {}
            for batch in batches:
                rows = np.resize(np.arange(len(reference["frames"])), batch)
                frames = torch.as_tensor(reference["frames"][rows], dtype=dtype, device=device)
                rate = torch_rate(fn, frames)
                report["rates"][label][str(batch)] = rate
                print(f"{label:<16} batch {batch:>7}: {rate:>14,.0f} configs/s")
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    export_parser = commands.add_parser("export")
    export_parser.add_argument("--system", default="dialanine")
    export_parser.add_argument("--out", type=Path, required=True)
    export_parser.add_argument("--frames", type=int, default=1000)
    export_parser.add_argument("--seed", type=int, default=0)
    measure_parser = commands.add_parser("measure")
    measure_parser.add_argument("--data", type=Path, required=True)
    measure_parser.add_argument("--device", default="cuda")
    measure_parser.add_argument("--batch", default="4096,65536")
    measure_parser.add_argument("--compile", action="store_true")
    measure_parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.command == "export":
        if args.frames < 4 or args.frames % 4:
            parser.error(
                f"--frames must be a positive multiple of 4 (four scales), got {args.frames}"
            )
        export(args.system, args.out, args.frames, args.seed)
        return
    report = measure(args.data, args.device, [int(b) for b in args.batch.split(",")], args.compile)
    print(json.dumps(report["validation"], indent=1))
    if args.json is not None:
        command = rerun_command("benchmarks.energy_device", argv)
        threads = torch.get_num_threads()  # what the CPU rates depend on
        write_json_atomic(args.json, {"command": command, "torch_threads": threads, **report})


if __name__ == "__main__":
    main()
