"""``molgen validate-ff``: the torch energy against OpenMM, term by term, on every frame."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

import forcefields
from cli.arguments import non_negative_float, positive_float, positive_int, seed
from cli.common import add_charmm_arguments, resolve_charmm_files
from cli.outputs import check_json_output, write_json_output
from forcefields.errors import ConfigError, InputFileError
from forcefields.openmm_oracle import OpenMMOracle
from forcefields.validation import (
    DEFAULT_FORCE_TOLERANCE,
    DEFAULT_TOLERANCE,
    compare_with_openmm,
)
from systems.trajectories import read_frames

DTYPES = {"float32": torch.float32, "float64": torch.float64}


DEFAULT_FRAMES = 200
"""Perturbed copies of the minimised structure checked without ``--traj``."""
DEFAULT_NOISE = 0.01
"""Standard deviation in nm of their perturbation."""


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
        type=positive_int,
        help="without --traj: number of perturbed copies of the system's minimised structure "
        f"(default {DEFAULT_FRAMES})",
    )
    parser.add_argument(
        "--noise",
        type=non_negative_float,
        help=f"perturbation std (nm) without --traj (default {DEFAULT_NOISE})",
    )
    parser.add_argument(
        "--dtype", choices=sorted(DTYPES), default="float64", help="torch dtype (default float64)"
    )
    parser.add_argument(
        "--tolerance",
        type=positive_float,
        help=(
            "relative energy tolerance, per term and total (default "
            f"{_defaults(DEFAULT_TOLERANCE)}); forces keep their own "
            f"({_defaults(DEFAULT_FORCE_TOLERANCE)})"
        ),
    )
    parser.add_argument(
        "--seed", type=seed, default=0, help="seed of the perturbations (default 0)"
    )
    parser.add_argument("--json", type=Path, help="write the report as JSON")
    parser.set_defaults(func=run)


def _defaults(tolerances: dict[torch.dtype, float]) -> str:
    return ", ".join(f"{tolerances[dtype]:g} {name}" for name, dtype in DTYPES.items())


def _frames(args: argparse.Namespace, psf, pdb) -> np.ndarray:
    if args.traj is not None:
        given = [flag for flag in ("frames", "noise") if getattr(args, flag) is not None]
        if given:
            raise ConfigError(
                f"--{given[0]}: applies to the perturbed copies made without --traj; "
                "--traj checks its own frames"
            )
        return read_frames(args.traj, args.top if args.top is not None else psf)
    if pdb is None:
        raise InputFileError("--traj is required with --psf/--prm")
    reference = read_frames(pdb, None)[0]
    frames = DEFAULT_FRAMES if args.frames is None else args.frames
    noise = np.random.default_rng(args.seed).normal(
        scale=DEFAULT_NOISE if args.noise is None else args.noise,
        size=(frames, *reference.shape),
    )
    noise[0] = 0.0
    return reference[None] + noise


def run(args: argparse.Namespace) -> int:
    psf, prm, pdb = resolve_charmm_files(args)
    if args.json is not None:
        check_json_output(args.json, "--json", "validate-ff")
    energy = forcefields.load(psf, prm, dtype=DTYPES[args.dtype])
    frames = _frames(args, psf, pdb)
    energy.check_coordinates(torch.as_tensor(frames))
    report = compare_with_openmm(energy, OpenMMOracle(psf, prm), frames, tolerance=args.tolerance)
    print(report.table())
    if args.json is not None:
        write_json_output(args.json, report.to_dict(), "validate-ff")
    return 0 if report.passed else 1
