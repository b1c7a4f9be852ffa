"""``molgen bench``: side-by-side speed measurements (code in ``benchmarks/``)."""

from __future__ import annotations

import argparse
import os
import platform
import shlex
from pathlib import Path

from cli.arguments import positive_int, seed
from cli.common import add_charmm_arguments, resolve_charmm_files
from cli.outputs import check_json_output, write_json_output
from forcefields.errors import ConfigError, InputFileError
from systems.trajectories import read_frames


def _positive_ints(text: str) -> list[int]:
    """Positive integers from ``"1,64,1024"``; an empty item (``"1,,2"``) is refused."""
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from error
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _ratio_text(ratio: float) -> str:
    """A speed ratio to three significant digits, without an exponent (0.0512, 6.85, 1234)."""
    return f"{ratio:.3g}" if ratio < 100 else f"{ratio:.0f}"


def register(subparsers) -> None:
    parser = subparsers.add_parser("bench", help="speed benchmarks, side by side with the peer")
    kinds = parser.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    energy = kinds.add_parser(
        "energy",
        help="energy+forces configs/s: torch (batched) vs OpenMM (one at a time)",
    )
    add_charmm_arguments(energy)
    energy.add_argument("--pdb", type=Path, help="structure to perturb (default: the system's)")
    energy.add_argument(
        "--batch",
        type=_positive_ints,
        default=[1, 64, 1024, 4096],
        help="comma-separated torch batch sizes (default 1,64,1024,4096)",
    )
    energy.add_argument(
        "--dtype",
        default="float32,float64",
        help="comma-separated torch dtypes (default float32,float64)",
    )
    energy.add_argument("--compile", action="store_true", help="also time torch.compile")
    energy.add_argument("--device", default="cpu", help="cpu or cuda[:i] (default cpu)")
    energy.add_argument(
        "--openmm-frames",
        type=positive_int,
        default=2000,
        help="configurations per OpenMM timing repeat (default 2000)",
    )
    energy.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="CPU threads of torch and of OpenMM's CPU platform (default 1)",
    )
    energy.add_argument(
        "--seed", type=seed, default=0, help="seed of the perturbations (default 0)"
    )
    energy.add_argument("--json", type=Path, help="also write the results to this JSON file")
    energy.set_defaults(func=run_energy)


def run_energy(args: argparse.Namespace) -> int:
    import torch

    from forcefields.devices import resolve_device

    psf, prm, pdb = resolve_charmm_files(args)
    structure = args.pdb if args.pdb is not None else pdb
    if structure is None:
        raise InputFileError("--pdb is required with --psf/--prm")
    dtypes = [d.strip() for d in args.dtype.split(",") if d.strip()]
    if not dtypes:
        raise ConfigError(f"--dtype: no dtype in {args.dtype!r} (float32, float64)")
    for dtype in dtypes:
        if dtype not in ("float32", "float64"):
            raise ConfigError(f"--dtype: unknown dtype {dtype!r} (float32, float64)")
    device = resolve_device(args.device, "--device")
    if args.json is not None:
        check_json_output(args.json, "--json", "bench energy")
    threads_before = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        return _measure_energy(args, psf, prm, structure, dtypes, device)
    finally:
        torch.set_num_threads(threads_before)


def _measure_energy(
    args: argparse.Namespace,
    psf: Path,
    prm: list[Path],
    structure: Path,
    dtypes: list[str],
    device,
) -> int:
    """Time the energy, print the rates and same-precision ratios, write ``--json``."""
    import torch

    from benchmarks.energy import benchmark_energy

    processor = platform.processor() or platform.machine()
    machine = f"{processor}, {os.cpu_count()} CPUs, torch {torch.__version__}"
    if device.type == "cuda":
        machine += f", {torch.cuda.get_device_name(device)}"
    print(f"machine: {machine}; torch threads: {torch.get_num_threads()}")
    result = benchmark_energy(
        psf,
        prm,
        read_frames(structure, None)[0],
        batches=args.batch,
        dtypes=dtypes,
        compile=args.compile,
        device=str(device),
        openmm_frames=args.openmm_frames,
        seed=args.seed,
        threads=args.threads,
        progress=print,
    )
    result = {
        "command": _energy_command(args),
        "system": args.system or str(psf),
        "machine": machine,
        "torch_threads": torch.get_num_threads(),
        "openmm_cpu_threads": args.threads,
        **result,
    }
    for dtype, entry in result["ratios"].items():
        print(
            f"ratio, {dtype} (batch {max(args.batch)}, {entry['torch']} vs OpenMM "
            f"{entry['openmm']}, {result['openmm_precision'][entry['openmm']]} precision): "
            f"{_ratio_text(entry['ratio'])}x"
        )
    if args.json is not None:
        write_json_output(args.json, result, "bench energy")
    return 0


def _energy_command(args: argparse.Namespace) -> str:
    """The ``molgen bench energy`` command line that repeats this measurement."""
    words = ["molgen", "bench", "energy"]
    if args.system is not None:
        words += ["--system", args.system, "--variant", args.variant]
    else:
        words += ["--psf", str(args.psf), "--prm", *map(str, args.prm)]
    if args.pdb is not None:
        words += ["--pdb", str(args.pdb)]
    words += ["--batch", ",".join(map(str, args.batch)), "--dtype", args.dtype]
    words += ["--compile"] if args.compile else []
    words += ["--device", args.device, "--openmm-frames", str(args.openmm_frames)]
    words += ["--threads", str(args.threads), "--seed", str(args.seed)]
    words += ["--json", str(args.json)] if args.json is not None else []
    return shlex.join(words)
