"""``molgen sample``: draw samples from a trained run, with per-sample arrays."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from cli.arguments import seed
from cli.outputs import check_output_file

__all__ = ["LOSSY_SUFFIXES", "register"]

LOSSY_SUFFIXES = {".xtc": 0.001, ".pdb": 0.0001}
"""Trajectory formats that round coordinates, with their resolution in nm."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sample",
        help="draw samples of a trained run (trajectory or .npz + per-sample arrays)",
        description=(
            "Load RUN's final (or --checkpoint) weights and draw N samples in chunks. Toys: "
            "FILE (.npz; a name without suffix gets .npz, other suffixes are refused) with x, "
            "log_p_g, u_b (reduced energy), energy, log_w, modes and the "
            "observables (dihedrals in radians). Molecules: FILE as a trajectory "
            "(.h5/.dcd/.xtc/.pdb; .dcd/.xtc also get FILE's .pdb topology) plus FILE.npz "
            "with the same per-sample arrays. Same seed and batch give identical samples (a "
            "DCD header also records its creation time); a "
            "killed call resumes from its chunks. FILE.npz holds the energies and weights "
            "of the exact coordinates; .xtc rounds coordinates to 0.001 nm and .pdb to "
            "0.0001 nm (.h5 and .dcd keep float32). Warns when a damaged chunk is drawn "
            "again, and when almost no sample is finite (a diverged training)."
        ),
    )
    parser.add_argument("run", type=Path, help="run directory written by molgen train")
    parser.add_argument("-n", type=int, required=True, help="number of samples")
    parser.add_argument("--out", type=Path, required=True, help="output file")
    parser.add_argument("--batch", type=int, default=4096, help="samples per chunk")
    parser.add_argument("--seed", type=seed, default=0, help="random seed")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        help="checkpoint file (default: final.pt, or the latest of an unfinished run)",
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:i]")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from forcefields.devices import resolve_device
    from molgen.sampling import sample_run

    device = resolve_device(args.device, "--device")
    check_output_file(args.out, "--out")
    with warnings.catch_warnings():
        warnings.showwarning = _warning_printer(warnings.showwarning)
        result = sample_run(
            args.run,
            args.n,
            args.out,
            batch=args.batch,
            seed=args.seed,
            checkpoint=args.checkpoint,
            device=str(device),
            progress=not args.no_progress,
        )
    print(f"wrote {', '.join(str(path) for path in result.files)} (from {result.checkpoint})")
    if args.out.suffix in LOSSY_SUFFIXES:
        print(
            f"note: {args.out} stores coordinates to {LOSSY_SUFFIXES[args.out.suffix]} nm; "
            f"energies recomputed from it differ from those in {args.out}.npz",
            file=sys.stderr,
        )
    return 0


def _warning_printer(default):
    """``warnings.showwarning`` that prints the sampling's own warnings (a damaged chunk
    drawn again, samples that are almost all non-finite; raised at this module's call of
    ``sample_run``) as one line on stderr above the progress bar, and hands every other
    warning to ``default``."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if category is RuntimeWarning and Path(filename).resolve() == Path(__file__).resolve():
            from tqdm import tqdm

            tqdm.write(f"molgen sample: warning: {message}", file=sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    return show
