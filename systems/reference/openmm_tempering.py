"""OpenMM parallel tempering through openmmtools, stored so that a killed run resumes.

The run lives in one NetCDF storage pair written by ``MultiStateReporter``
(``<storage>.nc`` and ``<storage>_checkpoint.nc``) with a checkpoint every iteration, so
``openmmtools`` can restart from the last completed iteration
(``ParallelTemperingSampler.from_storage``) and nothing is lost. Each iteration is one
:class:`~systems.reference.seeded_langevin.SeededLangevinMove` segment per replica
followed by one sweep of swaps between neighbouring temperatures (openmmtools'
``swap-neighbors`` scheme, whose random numbers come from NumPy's global generator and
can therefore be seeded; the default ``swap-all`` draws them inside numba).

Same seed, same numbers for a run done in one go. A resumed run is a valid continuation
but not the same numbers as an uninterrupted one: OpenMM reads an integrator's seed only
when its Context is created, so the resumed process starts a new noise stream (seeded
from the seed and the number of segments done).

Example (a sketch: ``system`` and ``positions_nm`` are the caller's OpenMM system and
coordinates)::

    settings = TemperingSettings(temperatures=geometric_ladder(300.0, 600.0, 4))
    run_tempering("out/pt.nc", system, positions_nm, settings, n_iterations=100)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np
import openmm
from openmm import unit
from openmmtools import cache, states
from openmmtools.multistate import MultiStateReporter, ParallelTemperingSampler
from openmmtools.multistate.utils import SimulationNaNError
from tqdm.auto import tqdm

from forcefields.errors import NonFiniteCoordinatesError
from forcefields.openmm_oracle import openmm_platform
from systems.reference.mpi_ranks import any_process, is_first_process, on_first_process
from systems.reference.quiet import quiet
from systems.reference.run_directory import note_iterations_done
from systems.reference.seeded_langevin import RunawayMoveError, SeededLangevinMove, derived_seed
from systems.reference.stopping import SamplingStopped, StopCheck

__all__ = [
    "PLATFORMS",
    "TemperingSettings",
    "add_hydrogen_bond_constraints",
    "run_tempering",
]

PLATFORMS = ("Reference", "CPU")


@dataclass(frozen=True)
class TemperingSettings:
    """Parameters of an OpenMM parallel-tempering run.

    Arguments:
        temperatures: ``(K,)`` ladder in K, increasing; ``temperatures[0]`` is the target.
        steps_per_iteration: MD steps per replica between swap attempts.
        timestep: integration step in fs.
        collision_rate: Langevin friction in 1/ps.
        platform: OpenMM platform, ``"Reference"`` or ``"CPU"`` (one thread).
        seed: seed of velocities, integrator noise and swap decisions.
    """

    temperatures: Sequence[float]
    steps_per_iteration: int = 500
    timestep: float = 1.0
    collision_rate: float = 1.0
    platform: str = "Reference"
    seed: int = 0


def add_hydrogen_bond_constraints(system: openmm.System, topology) -> int:
    """Constrain every bond of ``topology`` that involves a hydrogen, at its equilibrium length.

    Arguments:
        system: the OpenMM system to modify.
        topology: ``mdtraj.Topology`` with the bonds (same atom order as ``system``).

    The length is the ``r0`` of the pair's harmonic bond term (a ``HarmonicBondForce``
    entry; the Urey–Bradley 1-3 pairs in such forces are not bonds and are skipped).
    Returns the number of constraints added.
    """
    hydrogens = {atom.index for atom in topology.atoms if atom.element.symbol == "H"}
    wanted = {
        tuple(sorted((first.index, second.index)))
        for first, second in topology.bonds
        if first.index in hydrogens or second.index in hydrogens
    }
    lengths = {}
    for force in system.getForces():
        if isinstance(force, openmm.HarmonicBondForce):
            for index in range(force.getNumBonds()):
                i, j, length, _ = force.getBondParameters(index)
                if tuple(sorted((i, j))) in wanted:
                    lengths[tuple(sorted((i, j)))] = length
    for (i, j), length in sorted(lengths.items()):
        system.addConstraint(i, j, length)
    return len(lengths)


def _move(settings: TemperingSettings) -> SeededLangevinMove:
    return SeededLangevinMove(
        seed=settings.seed,
        timestep=settings.timestep * unit.femtoseconds,
        collision_rate=settings.collision_rate / unit.picoseconds,
        n_steps=settings.steps_per_iteration,
    )


def _use_platform(sampler: ParallelTemperingSampler, platform: str) -> None:
    """Give ``sampler`` its own context caches on ``platform`` (CPU: one thread)."""
    chosen, properties = openmm_platform(platform)
    context_cache = cache.ContextCache(platform=chosen, platform_properties=properties or None)
    sampler.energy_context_cache = context_cache
    sampler.sampler_context_cache = context_cache


def _seed_swaps(seed: int, iteration: int) -> None:
    """openmmtools draws swap decisions from NumPy's global generator."""
    np.random.seed(derived_seed(seed, iteration, 3))


def run_tempering(
    storage: Path | str,
    system: openmm.System,
    positions: np.ndarray,
    settings: TemperingSettings,
    n_iterations: int,
    progress: bool = False,
    stop: StopCheck | None = None,
) -> None:
    """Run (or continue) the parallel tempering stored in ``storage`` to ``n_iterations``.

    Arguments:
        storage: path of the NetCDF storage (``.nc``); ``<stem>_checkpoint.nc`` is written
            next to it. When it exists the run continues from its last completed iteration
            (``system`` and ``positions`` are then not used).
        system: the OpenMM system (vacuum, no periodic box).
        positions: ``(N, 3)`` starting coordinates in nm, used for every replica.
        settings: ladder, integration and platform settings.
        n_iterations: total number of iterations the storage should hold when done.
        progress: show a tqdm progress bar.
        stop: asked after every iteration (under MPI, stopping when any process asks).

    Raises:
        NonFiniteCoordinatesError: the dynamics became unstable (timestep too large): NaN,
            or an atom flung beyond :data:`~systems.reference.runaway.RUNAWAY_DISTANCE_NM`
            from the molecule's centre; the iterations completed before stay in ``storage``.
        SamplingStopped: ``stop`` answered ``True``; ``storage`` holds every iteration done.
    """
    resumable = on_first_process(_start_or_resume, Path(storage))
    with quiet("openmmtools"):
        reporter = MultiStateReporter(str(storage), checkpoint_interval=1)
    try:
        if resumable:
            with quiet("openmmtools"):
                sampler = ParallelTemperingSampler.from_storage(reporter)
        else:
            sampler = _create(reporter, system, positions, settings)
        _use_platform(sampler, settings.platform)
        try:
            _advance(sampler, n_iterations, settings.seed, progress, stop)
        except SimulationNaNError as error:
            raise NonFiniteCoordinatesError(
                f"{storage}: OpenMM dynamics became unstable at iteration {sampler.iteration} "
                f"({_instability(error)}); use a smaller timestep than {settings.timestep:g} fs "
                "and a new --out (openmmtools saved the failing state in "
                f"{Path(storage).parent / 'nan-error-logs'})"
            ) from error
    finally:
        reporter.close()


def _instability(error: SimulationNaNError) -> str:
    """What went wrong: the runaway atom when a :class:`RunawayMoveError` caused ``error``
    (openmmtools raises it while handling that), else NaN."""
    cause = error.__context__
    return str(cause) if isinstance(cause, RunawayMoveError) else "NaN"


def _start_or_resume(storage: Path) -> bool:
    """Whether ``storage`` holds a completed iteration to continue from. A storage without
    one (the run was killed while openmmtools created it, before any positions were
    checkpointed) is removed, with its checkpoint file, so that the run starts afresh:
    openmmtools would resume it from empty positions and fail with NaN."""
    checkpoint = storage.with_name(f"{storage.stem}_checkpoint.nc")
    if not storage.exists():
        return False
    try:
        with netCDF4.Dataset(checkpoint) as data:
            positions = data.variables.get("positions")
            completed = positions is not None and positions.shape[0] > 0
    except OSError:
        return True  # unreadable: openmmtools names the problem when it opens it
    if not completed:
        storage.unlink()
        checkpoint.unlink()
    return completed


def _create(
    reporter: MultiStateReporter,
    system: openmm.System,
    positions: np.ndarray,
    settings: TemperingSettings,
) -> ParallelTemperingSampler:
    temperatures = list(settings.temperatures)
    thermodynamic_state = states.ThermodynamicState(system, temperatures[0] * unit.kelvin)
    sampler_state = states.SamplerState(np.asarray(positions, dtype=np.float64) * unit.nanometer)
    with quiet("openmmtools"):
        sampler = ParallelTemperingSampler(
            mcmc_moves=_move(settings),
            number_of_iterations=0,
            online_analysis_interval=None,
            replica_mixing_scheme="swap-neighbors",
        )
        sampler.create(
            thermodynamic_state,
            sampler_state,
            reporter,
            temperatures=[t * unit.kelvin for t in temperatures],
            n_temperatures=len(temperatures),
        )
    return sampler


def _advance(
    sampler: ParallelTemperingSampler,
    n_iterations: int,
    seed: int,
    progress: bool,
    stop: StopCheck | None,
) -> None:
    """Run one iteration at a time (each stored and checkpointed) up to ``n_iterations``,
    raising :class:`SamplingStopped` after one when ``stop`` (asked on every process) says so.

    The swap generator is reseeded from ``(seed, iteration)`` before each iteration, and
    every state's move counts the iteration as its number of applications: in one process
    it is that already; in an MPI job a state's move runs on whichever process holds its
    replica, so the counts (and the seeds drawn from them) would otherwise differ by process.
    """
    first = is_first_process()
    if first:
        note_iterations_done(sampler.iteration, n_iterations)
    if sampler.number_of_iterations < n_iterations:
        sampler.number_of_iterations = n_iterations
    with (
        # a failed move is raised as SimulationNaNError and reported as one typed error;
        # openmmtools' own ERROR and CRITICAL lines about it would precede that error
        quiet("openmmtools", level=logging.CRITICAL + 1),
        tqdm(
            total=n_iterations,
            initial=sampler.iteration,
            disable=not (progress and first),
            unit="it",
            desc="OpenMM PT",
        ) as bar,
    ):
        while sampler.iteration < n_iterations:
            _seed_swaps(seed, sampler.iteration)
            # the sampler's own per-state moves (its mcmc_moves property returns copies)
            for move in sampler._mcmc_moves:
                move.n_applied = sampler.iteration
            sampler.run(1)
            bar.update(1)
            if stop is not None and sampler.iteration < n_iterations and any_process(stop()):
                raise SamplingStopped(sampler.iteration, n_iterations)
