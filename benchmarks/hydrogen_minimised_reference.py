"""Mode populations under hydrogen minimisation (thesis App. A.2, eq 87) from a reference.

A generator whose hydrogens sit at their energy minimum (``flow.hydrogens:
deterministic``) targets ``p̄(x^C) ∝ exp(−β U(x^C, x^H*(x^C)))``, not the physical
heavy-atom marginal, so its populations are to be compared with this estimate rather
than with the reference's own (:mod:`systems.reference.hydrogen_minimised_modes`).

Takes ``--frames`` frames of a ``molgen reference`` directory, the same number from
every chain (ladder), evenly spaced in time, so that the standard errors can use the
chains as independent time series; minimises each frame's hydrogens with its heavy
atoms fixed (the ``internal`` kernel); and writes ``--out`` (JSON, atomically) with the
eq-87 populations (``{"mean", "sem"}``), the Kish effective sample size of the weights,
the unweighted populations of the same frames and the reference's ``stats.json``
populations. On one shared core 28,800 dialanine frames took 20 min.

    OMP_NUM_THREADS=1 nice -n 10 python -m benchmarks.hydrogen_minimised_reference \\
        --reference reference_dialanine --frames 28800 --out a2.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks.rerun_command import rerun_command
from forcefields.atomic_files import write_json_atomic

__all__ = ["chain_subsample", "main"]

KERNEL = "internal"
"""Eq 87's kernel: the harmonic hydrogen density in internal coordinates (the thesis's
isotropic Gaussian leaves a Kish effective size of a few frames on molecules)."""


def chain_subsample(chains: np.ndarray, frames: int) -> np.ndarray:
    """Indices of ``frames // C`` frames per chain, evenly spaced in each chain's time order.

    Arguments:
        chains: ``(M,)`` chain index of every frame, frames ordered chain by chain.
        frames: how many frames to keep in all (at least one per chain).
    """
    names, starts, counts = np.unique(chains, return_index=True, return_counts=True)
    if np.count_nonzero(np.diff(chains)) != len(names) - 1:
        raise ValueError("frames are not ordered chain by chain")
    per_chain = frames // len(names)
    if per_chain < 1 or per_chain > counts.min():
        raise ValueError(
            f"--frames {frames}: need between {len(names)} and {len(names) * counts.min()} "
            f"({len(names)} chains of at least {counts.min()} frames)"
        )
    return np.concatenate(
        [
            start + np.linspace(0, count - 1, per_chain).round().astype(np.int64)
            for start, count in sorted(zip(starts, counts, strict=True))
        ]
    )


def _estimate(reference: Path, frames: int, batch_size: int) -> dict:
    import systems
    from systems.reference.hydrogen_minimised_modes import (
        hydrogen_minimised_log_weights,
        kish_effective_size,
        weighted_populations,
    )
    from systems.trajectories import read_frames

    stats = json.loads((reference / "stats.json").read_text())
    system = systems.load(stats["system"], temperature=stats["temperature"])
    with np.load(reference / "frames.npz", allow_pickle=False) as arrays:
        chains = arrays["chain"]
    indices = chain_subsample(chains, frames)
    trajectory = read_frames(reference / "trajectory.dcd", reference / "topology.pdb")
    if len(trajectory) != len(chains):
        raise ValueError(f"{reference}: {len(trajectory)} frames but {len(chains)} chain labels")
    x = trajectory[indices]
    n_chains = len(np.unique(chains))
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        log_w = hydrogen_minimised_log_weights(system, x, kernel=KERNEL, batch_size=batch_size)
        labels = np.asarray(system.modes(x))
        populations = weighted_populations(log_w, labels, system.mode_names, n_chains)
        unweighted = weighted_populations(np.zeros(len(x)), labels, system.mode_names, n_chains)
    seconds = time.perf_counter() - start
    weights = np.exp(log_w - log_w.max())
    return {
        "reference": str(reference),
        "system": stats["system"],
        "temperature": stats["temperature"],
        "kernel": KERNEL,
        "frames": len(x),
        "chains": n_chains,
        "frames_per_chain": len(x) // n_chains,
        "kish_ess": kish_effective_size(log_w),
        "largest_weight_share": float(weights.max() / weights.sum()),
        "populations": populations,
        "unweighted_populations": unweighted,
        "reference_populations": stats["populations"],
        "seconds": seconds,
        "warnings": [str(warning.message) for warning in caught],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, required=True, help="molgen reference output")
    parser.add_argument("--frames", type=int, required=True, help="frames used, split over chains")
    parser.add_argument("--out", type=Path, required=True, help="JSON file written")
    parser.add_argument("--batch-size", type=int, default=1024, help="frames minimised together")
    args = parser.parse_args(argv)
    for name in ("stats.json", "frames.npz", "trajectory.dcd", "topology.pdb"):
        if not (args.reference / name).is_file():
            parser.error(f"--reference {args.reference}: no {name} (run molgen reference first)")
    try:
        result = _estimate(args.reference, args.frames, args.batch_size)
    except ValueError as error:
        parser.error(str(error))
    command = rerun_command("benchmarks.hydrogen_minimised_reference", argv)
    write_json_atomic(args.out, {"command": command, **result})
    for mode, entry in result["populations"].items():
        print(f"{mode}: {entry['mean']:.4f} ± {entry['sem']:.4f}")
    print(f"Kish ESS {result['kish_ess']:.0f} of {result['frames']}; {result['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
