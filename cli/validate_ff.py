"""``molgen validate-ff``: the torch energy against OpenMM, term by term, on every frame."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from cli.common import add_charmm_arguments, resolve_charmm_files
from forcefields.atomic_files import write_json_atomic
from forcefields.errors import InputFileError
from systems.trajectories import read_frames

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "validate-ff",
        help="compare the torch CHARMM energy with OpenMM per term and in forces",
        description=(
            "Per-term and total energy and force differences between molgen's torch energy and "
            "OpenMM (Reference platform) on every frame. "
            "Exit status 1 when a tolerance is exceeded."
        ),
    )
    add_charmm_arguments(parser)
    parser.add_argument("--traj", type=Path, help="frames to check (any mdtraj format)")
    parser.add_argument("--top", type=Path, help="topology for --traj (default: the psf)")
    parser.add_argument(
        "--frames",
        type=int,
        default=200,
        help="without --traj: number of perturbed copies of the system's minimised structure",
    )
    parser.add_argument(
        "--noise", type=float, default=0.01, help="perturbation std (nm) without --traj"
    )
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float64")
    parser.add_argument(
        "--tolerance", type=float, help="relative tolerance (default 1e-8 float64, 1e-5 float32)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the report as JSON")
    parser.set_defaults(func=run)


def _frames(args: argparse.Namespace, psf, pdb) -> np.ndarray:
    if args.traj is not None:
        return read_frames(args.traj, args.top if args.top is not None else psf)
    if pdb is None:
        raise InputFileError("--traj is required with --psf/--prm")
    if args.frames <= 0:
        raise InputFileError(f"--frames: must be positive, got {args.frames}")
    reference = read_frames(pdb, None)[0]
    noise = np.random.default_rng(args.seed).normal(
        scale=args.noise, size=(args.frames, *reference.shape)
    )
    noise[0] = 0.0
    return reference[None] + noise


def run(args: argparse.Namespace) -> int:
    import forcefields
    from forcefields.openmm_oracle import OpenMMOracle
    from forcefields.validation import compare_with_openmm

    psf, prm, pdb = resolve_charmm_files(args)
    energy = forcefields.load(psf, prm, dtype=DTYPES[args.dtype])
    frames = _frames(args, psf, pdb)
    energy.check_coordinates(torch.as_tensor(frames))
    report = compare_with_openmm(energy, OpenMMOracle(psf, prm), frames, tolerance=args.tolerance)
    print(report.table())
    if args.json is not None:
        write_json_atomic(args.json, report.to_dict())
    return 0 if report.passed else 1
