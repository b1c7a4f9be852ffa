"""Molecular Boltzmann generators held against parallel tempering: train, sample, evaluate.

For each config (``configs/molecules/*.yaml``) and one reference directory written by
``molgen reference``: train the generator (its data phases read the reference's
equilibrated frames), draw ``--samples`` configurations, evaluate them against the reference
(``molgen evaluate``: Kish ESS, reweighted populations with standard errors, their
comparison with the reference, D-chirality fraction, plots), and write

* ``<out>/<name>/`` the run, samples and ``evaluation/`` (report.json + PNGs);
* ``<out>/summary.json`` and ``<out>/summary.md``: one row per config with the training
  wall time, ESS, raw and reweighted populations against the reference (z-scores) and
  the D fraction.

A finished stage is not repeated, so a killed benchmark continues.

    OMP_NUM_THREADS=1 python -m benchmarks.molecules \\
        --configs configs/molecules/butane_internal.yaml \\
        --reference runs/reference_butane --out runs/molecules_butane
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from benchmarks.rerun_command import rerun_command
from forcefields.atomic_files import save_npz_atomic, write_json_atomic, write_text_atomic
from molgen.estimate.importance import importance_expectation
from molgen.estimate.report import population_entry
from molgen.sampling.writers import sidecar_path
from molgen.yaml_numbers import safe_load
from systems.registry import TOY_NAMES

__all__ = ["main", "reweighted_energy", "run_config", "summary_row"]


def _with_reference(config: dict, reference: Path) -> dict:
    """``config`` with every reference-data phase reading the run in ``reference``."""
    for phase in config["phases"]:
        data = phase.get("data")
        if data and data.get("source") == "reference":
            data["path"] = str(reference)
    return config


def _cli(argv: list[str]) -> None:
    from cli.main import main as molgen

    status = molgen(argv)
    if status not in (0, 1):
        raise SystemExit(f"molgen {' '.join(argv)} failed (exit {status})")


def run_config(
    config_path: Path,
    reference: Path,
    out: Path,
    samples: int,
    seed: int,
    train_seed: int | None = None,
    a2: dict | None = None,
) -> dict:
    """Train, sample and evaluate one config; returns its summary row.

    ``train_seed`` replaces the config's training seed; the run is then named
    ``<config>_seed<train_seed>``, so several seeds of one config sit side by side.
    ``a2`` (the JSON of ``benchmarks.hydrogen_minimised_reference``): a config with
    deterministic hydrogens is also compared with it (:mod:`benchmarks.deterministic_hydrogens`).
    """
    name = config_path.stem if train_seed is None else f"{config_path.stem}_seed{train_seed}"
    work = out / name
    work.mkdir(parents=True, exist_ok=True)
    config = _with_reference(safe_load(config_path.read_text()), reference.resolve())
    if train_seed is not None:
        config["seed"] = train_seed
    config_file = work / "train.yaml"
    write_text_atomic(config_file, yaml.safe_dump(config, sort_keys=False))
    run = work / "train"
    timing = work / "training_seconds.json"
    if not (run / "checkpoints" / "final.pt").exists():
        start = time.perf_counter()
        resume = ["--resume"] if (run / "checkpoints").is_dir() else []
        _cli(["train", str(config_file), "--out", str(run), "--no-progress", *resume])
        if not resume:
            write_json_atomic(timing, {"seconds": time.perf_counter() - start})
    sample_file = _samples_path(work, config["system"])
    sidecar = sidecar_path(sample_file)
    if not sidecar.exists():
        _cli(
            ["sample", str(run), "-n", str(samples), "--out", str(sample_file), "--seed", str(seed)]
        )
    evaluation = work / "evaluation"
    if not (evaluation / "report.json").exists():
        _cli(
            [
                "evaluate",
                str(sidecar),
                "--reference",
                str(reference),
                "--out",
                str(evaluation),
            ]
        )
    report = json.loads((evaluation / "report.json").read_text())
    seconds = json.loads(timing.read_text())["seconds"] if timing.exists() else None
    with np.load(sidecar, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    row = summary_row(name, config, report, arrays, seconds)
    if a2 is not None and row["hydrogens"] == "deterministic":
        row["a2"] = {key: a2[key] for key in ("frames", "kish_ess", "populations")}
        row["a2_comparison"] = _a2_comparison(work, config, arrays, a2)
    return row


def _samples_path(work: Path, system: str) -> Path:
    """Where ``molgen sample`` writes in ``work``: the trajectory ``samples.dcd`` (per-sample
    arrays in ``samples.dcd.npz``) for a molecule; only ``samples.npz`` for a toy system."""
    return work / ("samples.npz" if system in TOY_NAMES else "samples.dcd")


def _a2_comparison(work: Path, config: dict, arrays: dict, a2: dict) -> dict:
    """The samples of ``work`` (sidecar ``arrays``) against the A.2 estimate; minimised
    weights cached on disk."""
    import systems
    from benchmarks.deterministic_hydrogens import a2_comparison, minimised_log_weights
    from systems.trajectories import read_frames

    cache = work / "minimised_log_weights.npz"
    if not cache.exists():
        frames = read_frames(work / "samples.dcd", work / "samples.pdb")
        system = systems.load(config["system"])
        log_w = minimised_log_weights(system, frames, arrays["log_weight"], arrays["energy"])
        save_npz_atomic(cache, {"log_weight": log_w})
    log_weights = {
        "reweighted": arrays["log_weight"],
        "minimised": np.load(cache, allow_pickle=False)["log_weight"],
    }
    mode_names = [str(m) for m in arrays["mode_names"]]
    return a2_comparison(arrays["modes"], mode_names, log_weights, a2)


def summary_row(name: str, config: dict, report: dict, arrays: dict, seconds) -> dict:
    """The numbers of one config (``arrays``: its samples' sidecar): ESS, populations
    against the reference, D fraction."""
    modes = arrays["modes"]
    mode_names = [str(m) for m in arrays["mode_names"]]
    raw = {mode: float(np.mean(modes == i)) for i, mode in enumerate(mode_names)}
    finetune = config["phases"][-1]
    return {
        "name": name,
        "system": config["system"],
        "hydrogens": config["flow"].get("hydrogens"),
        "coordinates": config["flow"].get("coordinates", "cartesian"),
        "finetune_losses": finetune["losses"],
        "training_seconds": seconds,
        "n": report["n"],
        "ess": report["ess"],
        "ess_fraction": report["ess_fraction"],
        "raw_populations": raw,
        "populations": report["populations"],
        "reference_populations": report["reference_populations"],
        "population_comparison": report["population_comparison"],
        "d_fraction": report.get("d_fraction"),
        "reweighted_energy": reweighted_energy(arrays["energy"], arrays["log_weight"]),
    }


def reweighted_energy(energy: np.ndarray, log_weights: np.ndarray) -> dict:
    """The reweighted mean energy ``⟨U⟩_B`` as ``{"mean", "sem", "trusted"[, "reason"]}``.

    Self-normalised importance sampling (:func:`~molgen.estimate.importance_expectation`
    with the default ESS threshold of ``molgen evaluate``): samples of zero weight (an
    overflowed sample's ``log w = −inf``, whatever its energy) are left out, and the mean
    is withheld (``None``, with the reason) when the ESS is too small or a sample of
    non-zero weight has a non-finite energy.

    Arguments:
        energy: the samples' physical energy ``(n,)`` (kJ/mol for molecules).
        log_weights: their unnormalised log importance weights ``(n,)``.
    """
    return population_entry(importance_expectation(energy, log_weights))


def _energy_text(entry: dict) -> str:
    """A row's reweighted mean energy: ``mean ± sem kJ/mol``, or why it is withheld."""
    if entry["mean"] is None:
        return f"reweighted mean energy withheld ({entry.get('reason', 'no estimate')})"
    sem = "n/a" if entry["sem"] is None else f"{entry['sem']:.2f}"
    return f"reweighted mean energy {entry['mean']:.2f} ± {sem} kJ/mol"


def _population_cell(row: dict, mode: str) -> str:
    generated = row["populations"][mode]
    reference = row["reference_populations"][mode]
    comparison = row["population_comparison"][mode]
    if generated["mean"] is None:
        return f"untrusted / {reference['mean']:.4f} ± {reference['sem']:.4f}"
    return (
        f"{generated['mean']:.4f} ± {generated['sem']:.4f} / {reference['mean']:.4f} ± "
        f"{reference['sem']:.4f} (z = {comparison['z']:+.2f})"
    )


def _table(rows: list[dict]) -> str:
    lines = []
    for row in rows:
        minutes = "—" if row["training_seconds"] is None else f"{row['training_seconds'] / 60:.1f}"
        lines += [
            f"### {row['name']} ({row['system']}, hydrogens {row['hydrogens']}, "
            f"{row['coordinates']} coordinates, fine-tune {row['finetune_losses']})",
            "",
            f"training {minutes} min; Kish ESS {row['ess']:.0f} of {row['n']} "
            f"({100 * row['ess_fraction']:.1f} %)",
        ]
        lines[-1] += f"; {_energy_text(row['reweighted_energy'])}"
        if row.get("d_fraction") is not None:
            lines[-1] += f"; D-chirality fraction {row['d_fraction']:.4f}"
        lines += ["", "| state | raw | reweighted ± sem / reference ± sem |", "|---|---|---|"]
        for mode, fraction in row["raw_populations"].items():
            lines.append(f"| {mode} | {fraction:.4f} | {_population_cell(row, mode)} |")
        lines.append("")
        if "a2_comparison" in row:
            from benchmarks.deterministic_hydrogens import a2_table

            lines += a2_table(row["a2_comparison"], row["a2"])
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", type=Path, nargs="+", required=True)
    parser.add_argument("--reference", type=Path, required=True, help="molgen reference output")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument(
        "--train-seeds",
        type=int,
        nargs="+",
        help="train each config once per seed (default: the config's own seed)",
    )
    parser.add_argument(
        "--hydrogen-minimised-reference",
        type=Path,
        help="JSON of benchmarks.hydrogen_minimised_reference: compare configs with "
        "deterministic hydrogens with its App. A.2 populations too",
    )
    args = parser.parse_args(argv)
    if not (args.reference / "stats.json").is_file():
        parser.error(f"--reference {args.reference}: no stats.json (run molgen reference first)")
    a2 = None
    if args.hydrogen_minimised_reference is not None:
        if not args.hydrogen_minimised_reference.is_file():
            parser.error(
                f"--hydrogen-minimised-reference {args.hydrogen_minimised_reference}: no file"
            )
        a2 = json.loads(args.hydrogen_minimised_reference.read_text())
    rows = [
        run_config(config, args.reference, args.out, args.samples, args.seed, train_seed, a2)
        for config in args.configs
        for train_seed in args.train_seeds or [None]
    ]
    command = rerun_command("benchmarks.molecules", argv)
    write_json_atomic(args.out / "summary.json", {"command": command, "rows": rows})
    write_text_atomic(args.out / "summary.md", f"`{command}`\n\n" + _table(rows))
    print(_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
