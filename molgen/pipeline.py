"""``molgen run``: reference, pre-training, data-free fine-tuning, sampling, evaluation.

One run directory holds every stage's output::

    RUN/reference/      parallel tempering (trajectory, stats.json)
    RUN/data.npz        equilibrated reference frames superposed on the minimised structure
    RUN/train/          the generator's run (config.yaml, checkpoints, metrics.jsonl)
    RUN/samples.dcd     generated conformations (+ samples.pdb, samples.dcd.npz)
    RUN/evaluation/     report.json and plots against the reference
    RUN/free_energy.json
    RUN/index.md        a report linking all of the above
    RUN/pipeline.json   system, seed and stage sizes of the run
    RUN/stages.json     each stage's exit status (1: its check failed)

A stage whose output exists is not run again, so a killed run continues where it
stopped (each stage resumes from its own checkpoints); ``RUN/pipeline.json``, written
first, holds the system, seed and sizes, and a call with other ones is refused. A stage
whose check fails (exit 1, e.g. too little overlap for a free energy) does not stop the
later stages; :class:`PipelineOutcome` lists it. The generator sees frames
superposed on the minimised structure and trains with the ``rigid`` alignment
penalty, which restrains only the rigid-body pose: internal coordinates keep their
Boltzmann marginal, so reweighted dihedral populations are those of the physical
ensemble.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

import yaml

from forcefields.atomic_files import (
    JSON_WRITER_KEY,
    save_npz_atomic,
    write_json_atomic,
    write_text_atomic,
)
from forcefields.errors import ConfigError
from forcefields.json_input import read_json_object
from molgen.differences import describe_differences, differing_keys
from molgen.training.reference_data import equilibrated_reference_frames
from molgen.yaml_numbers import safe_dump

__all__ = [
    "PipelineOutcome",
    "PipelineSettings",
    "QUICK",
    "FULL",
    "run_pipeline",
    "training_config",
]


@dataclass(frozen=True)
class PipelineSettings:
    """Sizes of every stage (iterations, steps, samples)."""

    reference_iterations: int
    reference_steps: int
    pretrain_steps: int
    finetune_steps: int
    batch_size: int
    width: int
    repeats: int
    hydrogen_repeats: int
    samples: int


@dataclass(frozen=True)
class PipelineOutcome:
    """What :func:`run_pipeline` produced.

    Attributes:
        index: the run's ``index.md``.
        failed_checks: the stages that ran but reported a failed check (exit 1).
    """

    index: Path
    failed_checks: list[str]


ALIGNMENT = {"mode": "rigid", "atoms": "heavy"}
"""The alignment penalty the pipeline trains with (it restrains the rigid-body pose only)."""
STAGES_WITH_PROGRESS = ("reference", "train", "sample")
"""The stages that draw progress bars (and take ``--no-progress``)."""

FULL = PipelineSettings(3000, 500, 600, 2500, 256, 64, 4, 4, 10_000)
QUICK = PipelineSettings(150, 100, 60, 40, 128, 16, 1, 1, 1_000)


def training_config(system: str, data: Path, settings: PipelineSettings, seed: int) -> dict:
    """The ``molgen train`` config of the pipeline: kl_z_dd pre-training, then kl_x.

    ``data`` is read relative to the folder of the config file it is written to.

    The generator works in internal coordinates (spline flows on the heavy atoms, a
    conditional spline flow on the hydrogens, the pose drawn exactly from the ``rigid``
    alignment penalty; :mod:`molgen.generators.internal`).
    """
    energy = {"clip": "default", "align": dict(ALIGNMENT)}
    return {
        "system": system,
        "seed": seed,
        "flow": {
            "preset": "molecule",
            "width": settings.width,
            "repeats": settings.repeats,
            "standardize": True,
            "hydrogens": "flow",
            "hydrogen_width": settings.width,
            "hydrogen_repeats": settings.hydrogen_repeats,
            "coordinates": "internal",
        },
        "metrics": {"every": max(1, settings.finetune_steps // 10), "samples": 2048},
        "checkpoints": {"every": 200, "keep": 1},
        "phases": [
            {
                "name": "pretrain",
                "steps": settings.pretrain_steps,
                "batch_size": settings.batch_size,
                "lr": 1.0e-3,
                "schedule": {"kind": "cosine", "final_factor": 0.1},
                "losses": {"kl_z_dd": 1.0},
                "data": {"source": "file", "path": str(data), "key": "x"},
                **energy,
            },
            {
                "name": "finetune",
                "steps": settings.finetune_steps,
                "batch_size": settings.batch_size,
                "lr": 5.0e-4,
                "schedule": {"kind": "cosine", "final_factor": 0.05},
                "losses": {"kl_x": 1.0},
                "grad_clip": 10.0,
                **energy,
            },
        ],
    }


def _stage(
    run: Path, done: Path, argv: list[str], say, debug: bool = False, progress: bool = True
) -> bool:
    """Run ``molgen ARGV`` unless ``done`` exists; ``False`` when its check failed (exit 1).

    Each stage's exit status is kept in ``RUN/stages.json``, so a stage skipped on a later
    call still reports its failed check; it is ``null`` while the stage runs, so a stage
    that never reported (killed, or ended by an error) runs again even when its output
    exists. Raises :class:`ConfigError` when the stage failed
    on its input (exit 2) and ``KeyboardInterrupt`` when it was interrupted (exit 130):
    later stages need its output. With ``debug`` the stage runs with ``--debug``, so its
    error's traceback is printed. Without ``progress`` the stages that draw progress
    bars run with ``--no-progress``.
    """
    from cli.main import main

    if not progress and argv[0] in STAGES_WITH_PROGRESS:
        argv = [*argv, "--no-progress"]

    record = run / "stages.json"
    statuses = read_json_object(record) if record.exists() else {}
    # null: the stage started and never reported (killed, or ended by an error after
    # writing its output): its output is not trusted, and the stage runs again
    if done.exists() and statuses.get(argv[0], 0) is not None:
        say(f"[molgen run] {done.name}: present, skipped")
        return statuses.get(argv[0], 0) == 0
    say(f"[molgen run] molgen {shlex.join(argv)}")
    write_json_atomic(record, {**statuses, argv[0]: None}, mode=0o644)
    status = main([*argv, "--debug"] if debug else argv)
    if status == 130:
        raise KeyboardInterrupt(f"stage 'molgen {argv[0]}' interrupted; run again to continue")
    if status not in (0, 1):
        raise ConfigError(f"stage 'molgen {argv[0]}' failed (exit {status})")
    write_json_atomic(record, {**statuses, argv[0]: status}, mode=0o644)
    return status == 0


def _claim(run: Path, description: dict) -> None:
    """Write ``RUN/pipeline.json``, or check that an earlier call described the same run."""
    marker = run / "pipeline.json"
    if marker.exists():
        earlier = read_json_object(marker)
        if earlier != description:
            raise ConfigError(
                f"{marker}: {run} holds another run ({_claim_difference(earlier, description)}); "
                "use a new --out, or the same system, --seed and --quick setting"
            )
        return
    if run.exists() and any(run.iterdir()):
        raise ConfigError(f"{run}: exists and is not a molgen run folder; use a new --out")
    write_json_atomic(marker, description, mode=0o644)


def _size_name(settings: object) -> str:
    """``"--quick"`` or ``"full"`` for stored sizes that are :data:`QUICK`'s or :data:`FULL`'s."""
    named = {"--quick": vars(QUICK), "full": vars(FULL)}
    return next((name for name, sizes in named.items() if sizes == settings), "other")


def _claim_difference(earlier: dict, now: dict) -> str:
    """What differs between two ``pipeline.json`` descriptions, with both values (the
    stage sizes named ``--quick`` or ``full``)."""
    parts = describe_differences(
        {key: value for key, value in earlier.items() if key != "settings"},
        {key: value for key, value in now.items() if key != "settings"},
    )
    if "settings" in differing_keys(earlier, now):
        before, after = _size_name(earlier.get("settings")), _size_name(now.get("settings"))
        parts.append(f"sizes {before} there, {after} here")
    return "; ".join(parts) or "written differently"


def _write_index(run: Path, system: str, free_energy: dict | None) -> None:
    evaluation = run / "evaluation"
    lines = [f"# molgen run: {system}", ""]
    lines += ["| stage | output |", "|---|---|"]
    lines += [
        "| reference | [stats.json](reference/stats.json) |",
        "| training | [metrics.jsonl](train/metrics.jsonl), [config.yaml](train/config.yaml) |",
        "| samples | [samples.dcd](samples.dcd), [samples.pdb](samples.pdb), "
        "[samples.dcd.npz](samples.dcd.npz) |",
        "| evaluation | [report.json](evaluation/report.json) |",
        "| free energy | [free_energy.json](free_energy.json) |",
        "",
        "## Plots",
        "",
    ]
    for plot in sorted(evaluation.glob("*.png")):
        lines.append(f"![{plot.stem}](evaluation/{plot.name})")
    if free_energy is not None:
        lines += [
            "",
            "## Free energy",
            "",
            "```",
            yaml.safe_dump(
                {key: value for key, value in free_energy.items() if key != JSON_WRITER_KEY},
                sort_keys=False,
            ),
            "```",
        ]
    write_text_atomic(run / "index.md", "\n".join(lines) + "\n", mode=0o644)


def run_pipeline(
    run: Path,
    system_name: str = "butane",
    settings: PipelineSettings = FULL,
    seed: int = 0,
    say=print,
    debug: bool = False,
    progress: bool = True,
) -> PipelineOutcome:
    """Run every stage into ``run``, continuing an interrupted call with the same arguments.

    ``seed`` goes to every stage; with ``debug`` each stage runs with ``--debug``, without
    ``progress`` with ``--no-progress`` where it draws progress bars.
    """
    import systems

    system = systems.load(system_name)
    if system.kind != "molecule":
        raise ConfigError(
            f"system {system_name!r}: not a molecule (the pipeline needs CHARMM files)"
        )
    if seed < 0:
        raise ConfigError(f"seed: {seed} is negative")
    _claim(run, {"system": system_name, "seed": seed, "settings": vars(settings)})
    checks: dict[str, bool] = {}
    reference = run / "reference"
    checks["reference"] = _stage(
        run,
        reference / "stats.json",
        [
            "reference",
            system_name,
            "--out",
            str(reference),
            "--seed",
            str(seed),
            "--iterations",
            str(settings.reference_iterations),
            "--steps-per-iteration",
            str(settings.reference_steps),
            *(["--resume"] if (reference / "run.json").exists() else []),
        ],
        say,
        debug,
        progress,
    )
    data = run / "data.npz"
    if not data.exists():
        frames = equilibrated_reference_frames(reference, system, ALIGNMENT)
        save_npz_atomic(data, {"x": frames}, mode=0o644)
    config = run / "train.yaml"
    write_text_atomic(
        config,
        safe_dump(training_config(system_name, Path(data.name), settings, seed)),
        mode=0o644,
    )
    train = run / "train"
    checks["train"] = _stage(
        run,
        train / "checkpoints" / "final.pt",
        ["train", str(config), "--out", str(train), *(["--resume"] if train.exists() else [])],
        say,
        debug,
        progress,
    )
    samples = run / "samples.dcd"
    checks["sample"] = _stage(
        run,
        run / "samples.dcd.npz",
        [
            "sample",
            str(train),
            "-n",
            str(settings.samples),
            "--out",
            str(samples),
            "--seed",
            str(seed),
        ],
        say,
        debug,
        progress,
    )
    checks["evaluate"] = _stage(
        run,
        run / "evaluation" / "report.json",
        [
            "evaluate",
            str(run / "samples.dcd.npz"),
            "--reference",
            str(reference),
            "--out",
            str(run / "evaluation"),
            "--seed",
            str(seed),
        ],
        say,
        debug,
        progress,
    )
    free_energy_json = run / "free_energy.json"
    states = list(system.mode_names[:2])
    checks["free-energy"] = _stage(
        run,
        free_energy_json,
        [
            "free-energy",
            str(run / "samples.dcd.npz"),
            "--system",
            system_name,
            "--states",
            *states,
            "--json",
            str(free_energy_json),
            "--seed",
            str(seed),
        ],
        say,
        debug,
        progress,
    )
    free_energy = read_json_object(free_energy_json) if free_energy_json.exists() else None
    _write_index(run, system_name, free_energy)
    return PipelineOutcome(
        run / "index.md", [name for name, passed in checks.items() if not passed]
    )
