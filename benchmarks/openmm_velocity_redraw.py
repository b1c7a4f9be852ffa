"""How much the OpenMM engine's velocity redraw heats stiff modes, on harmonic oscillators.

``molgen reference --engine openmm`` redraws Maxwell–Boltzmann velocities before every
segment of ``--steps-per-iteration`` steps (:class:`systems.reference.seeded_langevin.
SeededLangevinMove`), so a configuration that arrives from a swap starts at its new
temperature. OpenMM's ``setVelocitiesToTemperature`` already gives the redrawn velocities
LangevinMiddle's half-step lag ``−Δt/2 F/m`` (OpenMM 8.6; ``test_seeded_langevin.py``
checks it), but their spread is the continuous one, ``kT/m``, while the integrator's own
stationary velocities at the same point are narrower for stiff modes (by ``1 − (ωΔt/2)²``
for a harmonic mode). Each redraw therefore heats the stiff modes a little, and friction
(1/ps) removes only part of it within a segment.

Here ``--particles`` independent 3-D harmonic oscillators (mass 1 Da, ``ωΔt`` as given,
300 K, Δt = 1 fs, friction 1/ps, OpenMM Reference platform) run ``--segments`` segments
of each length with the engine's own move for ``--burn-in-ps`` then ``--record-ps``,
recording ``k x²/kT`` per coordinate at the segment ends (where the engine records its
frames; 1 for exact sampling), against the same move without the redraw (continuous
LangevinMiddle, whose positions are exact for a harmonic potential). Each oscillator's
time average is one independent value; the error is their standard error::

    OMP_NUM_THREADS=1 python -m benchmarks.openmm_velocity_redraw \
        --out benchmarks/results/openmm_velocity_redraw.md

A C–H stretch (about 3000 cm⁻¹) has ``ωΔt ≈ 0.57`` at 1 fs.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import openmm
from openmm import unit
from openmmtools import cache, states

from benchmarks.markdown_report import publish_report
from benchmarks.rerun_command import rerun_command
from cli.arguments import non_negative_float, positive_float, positive_int
from forcefields.atomic_files import write_json_atomic
from systems.reference.seeded_langevin import SeededLangevinMove

TEMPERATURE = 300.0
TIMESTEP_PS = 0.001
MASS = 1.0


def stiffness(omega_dt: float) -> float:
    """Force constant (kJ/mol/nm²) of an oscillator of mass 1 Da with ``ω Δt = omega_dt``."""
    return MASS * (omega_dt / TIMESTEP_PS) ** 2


def oscillators(count: int, omega_dt: float) -> openmm.System:
    """``count`` independent 3-D harmonic oscillators of mass 1 Da with ``ω Δt = omega_dt``."""
    system = openmm.System()
    force = openmm.CustomExternalForce("0.5*k*(x^2+y^2+z^2)")
    force.addGlobalParameter("k", stiffness(omega_dt))
    for index in range(count):
        system.addParticle(MASS)
        force.addParticle(index, [])
    system.addForce(force)
    return system


def spread(
    omega_dt: float,
    steps: int,
    burn_in_ps: float,
    record_ps: float,
    particles: int,
    redraw: bool,
    seed: int,
) -> tuple[float, float]:
    """Mean and standard error (over oscillators) of ``k x²/kT`` at the segment ends."""
    system = oscillators(particles, omega_dt)
    thermodynamic = states.ThermodynamicState(system, TEMPERATURE * unit.kelvin)
    sampler = states.SamplerState(np.zeros((particles, 3)) * unit.nanometer)
    move = SeededLangevinMove(
        seed=seed,
        timestep=TIMESTEP_PS * unit.picosecond,
        collision_rate=1.0 / unit.picosecond,
        n_steps=steps,
    )
    contexts = cache.ContextCache(platform=openmm.Platform.getPlatformByName("Reference"))
    if not redraw:
        sampler.velocities = np.zeros((particles, 3)) * unit.nanometer / unit.picosecond
        first = move._before_integration
        move._before_integration = lambda context, state: (
            first(context, state) if move.n_applied == 0 else None
        )
    kt = (unit.MOLAR_GAS_CONSTANT_R * TEMPERATURE * unit.kelvin).value_in_unit(
        unit.kilojoule_per_mole
    )
    segment_ps = steps * TIMESTEP_PS
    burn_in, recorded = (math.ceil(time / segment_ps) for time in (burn_in_ps, record_ps))
    total = np.zeros(particles)
    for segment in range(burn_in + recorded):
        move.apply(thermodynamic, sampler, contexts)
        if segment >= burn_in:
            x = sampler.positions.value_in_unit(unit.nanometer)
            total += np.mean(stiffness(omega_dt) * x**2, axis=1) / kt
    per_oscillator = total / recorded
    return float(per_oscillator.mean()), float(per_oscillator.std(ddof=1) / math.sqrt(particles))


def _at_least_two(text: str) -> int:
    """An integer ``>= 2`` (an argparse type)."""
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be at least 2, got {text!r}")
    return value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--omega-dt", type=positive_float, nargs="+", default=[0.25, 0.57])
    parser.add_argument("--steps", type=positive_int, nargs="+", default=[20, 100, 500])
    parser.add_argument("--burn-in-ps", type=non_negative_float, default=10.0)
    parser.add_argument("--record-ps", type=positive_float, default=40.0)
    parser.add_argument(
        "--particles",
        type=_at_least_two,
        default=500,
        help="oscillators (at least 2: the error is their standard error)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="markdown report (.md)")
    args = parser.parse_args(argv)
    if args.out.suffix == ".json":
        parser.error(f"--out {args.out}: the numbers go to a .json beside it; name a .md file")
    rows = []
    for omega_dt in args.omega_dt:
        for steps in args.steps:
            times = (args.burn_in_ps, args.record_ps)
            redrawn = spread(omega_dt, steps, *times, args.particles, True, args.seed)
            kept = spread(omega_dt, steps, *times, args.particles, False, args.seed)
            rows.append({"omega_dt": omega_dt, "steps": steps, "redraw": redrawn, "kept": kept})
    command = rerun_command("benchmarks.openmm_velocity_redraw", argv)
    lines = [
        "# OpenMM engine: velocity redraw per segment, harmonic oscillators",
        "",
        f"`{command}`",
        "",
        f"{args.particles} oscillators, 300 K, 1 fs, friction 1/ps, OpenMM {openmm.__version__}"
        f" Reference; k x²/kT per coordinate at the segment ends over {args.record_ps:g} ps"
        f" after {args.burn_in_ps:g} ps (exact: 1), ± standard error over the oscillators.",
        "",
        "| ωΔt | steps per segment | redrawn each segment | continuous |",
        "|---|---|---|---|",
    ]
    for row in rows:
        (mean_r, sem_r), (mean_k, sem_k) = row["redraw"], row["kept"]
        lines.append(
            f"| {row['omega_dt']:g} | {row['steps']} | {mean_r:.4f} ± {sem_r:.4f} | "
            f"{mean_k:.4f} ± {sem_k:.4f} |"
        )
    publish_report(args.out, lines)
    write_json_atomic(
        args.out.with_suffix(".json"),
        {"command": command, "openmm_version": openmm.__version__, "rows": rows},
    )


if __name__ == "__main__":
    main()
