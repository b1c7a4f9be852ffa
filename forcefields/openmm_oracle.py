"""The OpenMM reference: the same CHARMM files through OpenMM, one force group per term.

OpenMM reads the files with its own parser (``openmm.app.CharmmPsfFile`` and
``CharmmParameterSet``), independently of the parmed reader behind the torch
energy, so agreement between the two is a real check.

Limitations: OpenMM's ``CharmmPsfFile`` applies a periodic improper (an IMPROPER
line ``A B C D k n δ`` with ``n > 0``) as the harmonic ``k (ψ - δ)²``, ignoring
``n``, where CHARMM (and the torch energy) use ``k (1 + cos(n ψ - δ))``: such
parameter files are refused (:func:`build_openmm_system` raises) rather than
compared with a wrong reference. OpenMM also looks impropers up in its own order
(see :mod:`forcefields.charmm_impropers`), which differs from CHARMM's only for
files giving several wildcard lines an improper can match. Its harmonic improper
``k min(|ψ-ψ0|, 2π-|ψ-ψ0|)²`` writes π with six decimals, which puts the minimum of a
ψ0 = 180° improper 7·10⁻⁷ rad off on one side; the oracle restores π to full precision.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from forcefields.charmm_reader import PathLike
from forcefields.energy import TERM_NAMES
from forcefields.errors import InputFileError, ShapeMismatchError

if TYPE_CHECKING:
    import openmm
    from openmm import app

__all__ = ["OpenMMOracle", "build_openmm_system", "charmm_openmm_system", "openmm_platform"]

_GROUP = {name: index for index, name in enumerate(TERM_NAMES)}

_CHARMM_GROUP_TO_TERM = {
    0: "bond",
    1: "angle",
    2: "dihedral",
    3: "urey_bradley",
    4: "improper",
    5: "cmap",
}


def _split_nonbonded(force):
    """Two copies of a NonbondedForce: Lennard-Jones only and Coulomb only."""
    import openmm

    lennard_jones = openmm.XmlSerializer.clone(force)
    coulomb = openmm.XmlSerializer.clone(force)
    for index in range(force.getNumParticles()):
        charge, sigma, epsilon = force.getParticleParameters(index)
        lennard_jones.setParticleParameters(index, 0.0, sigma, epsilon)
        coulomb.setParticleParameters(index, charge, sigma, 0.0)
    for index in range(force.getNumExceptions()):
        i, j, charge_product, sigma, epsilon = force.getExceptionParameters(index)
        lennard_jones.setExceptionParameters(index, i, j, 0.0, sigma, epsilon)
        coulomb.setExceptionParameters(index, i, j, charge_product, sigma, 0.0)
    lennard_jones.setForceGroup(_GROUP["lj"])
    coulomb.setForceGroup(_GROUP["coulomb"])
    return lennard_jones, coulomb


def _restore_full_precision_pi(force) -> None:
    """Replace the six-decimal ``pi = 3.141593`` OpenMM writes into a custom torsion's
    expression (its harmonic improper) with π to double precision."""
    expression = force.getEnergyFunction()
    force.setEnergyFunction(expression.replace(f"pi = {math.pi:f}", f"pi = {math.pi!r}"))


def _refuse_periodic_impropers(prm_paths: Sequence[PathLike]) -> None:
    """Raise :class:`InputFileError` if the parameter files define a periodic improper,
    which OpenMM would apply as a harmonic one (see the module docstring)."""
    from forcefields.charmm_parameter_set import read_parameter_set

    try:
        charmm = read_parameter_set([Path(path) for path in prm_paths])
    except InputFileError:  # unreadable files: OpenMM's own parser reports them below
        return
    periodic = charmm.parameter_set.improper_periodic_types
    if periodic:
        types = " ".join(next(iter(periodic)))
        raise InputFileError(
            f"{', '.join(map(str, prm_paths))}: periodic improper (n > 0) {types}: OpenMM "
            "applies periodic impropers as harmonic, so it cannot check this energy"
        )


def charmm_openmm_system(
    psf: PathLike, prm: PathLike | Sequence[PathLike]
) -> tuple[openmm.System, app.CharmmPsfFile]:
    """OpenMM's own ``System`` of the CHARMM files (vacuum, no cutoff, no constraints, no
    centre-of-mass motion remover), its forces as ``CharmmPsfFile`` builds them: what an
    OpenMM user would simulate, and the peer :mod:`benchmarks.energy` times.

    Returns:
        ``(system, psf_file)``.

    Raises:
        InputFileError: OpenMM cannot build the system, or the parameter files define a
            periodic improper (which OpenMM gets wrong; see the module docstring).
    """
    import openmm
    from openmm import app

    prm_paths = [prm] if isinstance(prm, str | Path) else list(prm)
    _refuse_periodic_impropers(prm_paths)
    try:
        psf_file = app.CharmmPsfFile(str(psf))
        parameter_set = app.CharmmParameterSet(*map(str, prm_paths))
        system = psf_file.createSystem(
            parameter_set, nonbondedMethod=app.NoCutoff, constraints=None, rigidWater=False
        )
    except Exception as error:
        raise InputFileError(
            f"{psf} + {', '.join(map(str, prm_paths))}: OpenMM cannot build a system ({error})"
        ) from error
    for index in reversed(range(system.getNumForces())):
        force = system.getForce(index)
        if isinstance(force, openmm.CustomTorsionForce):
            _restore_full_precision_pi(force)
        elif isinstance(force, openmm.CMMotionRemover):
            system.removeForce(index)
    return system, psf_file


def build_openmm_system(
    psf: PathLike, prm: PathLike | Sequence[PathLike]
) -> tuple[openmm.System, app.CharmmPsfFile]:
    """:func:`charmm_openmm_system` with one force group per term: its ``NonbondedForce``
    split into a Lennard-Jones and a Coulomb copy (which evaluates the pairs twice).

    Returns:
        ``(system, psf_file)``; force group ``TERM_NAMES.index(name)`` holds term ``name``.

    Raises:
        InputFileError: as :func:`charmm_openmm_system`, or for a force of no known term.
    """
    import openmm

    system, psf_file = charmm_openmm_system(psf, prm)
    for index in reversed(range(system.getNumForces())):
        force = system.getForce(index)
        if isinstance(force, openmm.NonbondedForce):
            parts = _split_nonbonded(force)
            system.removeForce(index)
            for part in parts:
                system.addForce(part)
        elif isinstance(force, openmm.CustomNonbondedForce):
            force.setForceGroup(_GROUP["lj"])
        elif force.getForceGroup() in _CHARMM_GROUP_TO_TERM:
            force.setForceGroup(_GROUP[_CHARMM_GROUP_TO_TERM[force.getForceGroup()]])
        else:
            raise InputFileError(f"{psf}: unsupported OpenMM force {type(force).__name__}")
    return system, psf_file


def openmm_platform(name: str):
    """The OpenMM platform ``name`` and its properties (``CPU``: one thread).

    Returns:
        ``(openmm.Platform, dict)``, ready for ``openmm.Context(system, integrator, *…)``.
    """
    import openmm

    properties = {"Threads": "1"} if name == "CPU" else {}
    return openmm.Platform.getPlatformByName(name), properties


class OpenMMOracle:
    """Per-term OpenMM energies and forces of frames, one configuration at a time.

    Arguments:
        psf, prm: the CHARMM files.
        platform: ``"Reference"`` (double precision, the default) or ``"CPU"``.

    Raises:
        InputFileError: OpenMM cannot build a system or a context from the files
            (see :func:`build_openmm_system`).
    """

    def __init__(
        self, psf: PathLike, prm: PathLike | Sequence[PathLike], platform: str = "Reference"
    ):
        import openmm

        self.system, _ = build_openmm_system(psf, prm)
        self.n_atoms = self.system.getNumParticles()
        integrator = openmm.VerletIntegrator(0.001)
        try:
            self.context = openmm.Context(self.system, integrator, *openmm_platform(platform))
        except openmm.OpenMMException as error:  # e.g. a periodicity 0 from a DIHEDRALS line
            files = ", ".join(map(str, [prm] if isinstance(prm, str | Path) else prm))
            raise InputFileError(
                f"{psf} + {files}: OpenMM cannot build a context for these files "
                f"({' '.join(str(error).split())})"
            ) from error

    def _check(self, frames: np.ndarray) -> np.ndarray:
        frames = np.asarray(frames, dtype=np.float64)
        if frames.ndim != 3 or frames.shape[1:] != (self.n_atoms, 3):
            raise ShapeMismatchError(
                f"frames: expected shape (B, {self.n_atoms}, 3), got {frames.shape}"
            )
        return frames

    def energy_and_forces(self, frame: np.ndarray, groups: set[int] | int = -1):
        """Energy (kJ/mol) and forces ``(N, 3)`` kJ/mol/nm of one frame ``(N, 3)`` nm."""
        self.context.setPositions(frame)
        state = self.context.getState(getEnergy=True, getForces=True, groups=groups)
        energy = state.getPotentialEnergy().value_in_unit_system(_md_unit_system())
        forces = state.getForces(asNumpy=True).value_in_unit_system(_md_unit_system())
        return float(energy), np.asarray(forces)

    def terms(self, frames: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Per-term energies ``{name: (B,)}`` and forces ``{name: (B, N, 3)}`` of ``frames``.

        One OpenMM state per frame and term, in kJ/mol and kJ/mol/nm.
        """
        frames = self._check(frames)
        energies = {name: np.zeros(len(frames)) for name in TERM_NAMES}
        forces = {name: np.zeros(frames.shape) for name in TERM_NAMES}
        for b, frame in enumerate(frames):
            self.context.setPositions(frame)
            for name, group in _GROUP.items():
                state = self.context.getState(getEnergy=True, getForces=True, groups={group})
                energies[name][b] = state.getPotentialEnergy().value_in_unit_system(
                    _md_unit_system()
                )
                forces[name][b] = state.getForces(asNumpy=True).value_in_unit_system(
                    _md_unit_system()
                )
        return energies, forces

    def total(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Total energies ``(B,)`` and forces ``(B, N, 3)`` of ``(B, N, 3)`` frames."""
        frames = self._check(frames)
        results = [self.energy_and_forces(frame) for frame in frames]
        return np.array([e for e, _ in results]), np.stack([f for _, f in results])


def _md_unit_system():
    from openmm import unit

    return unit.md_unit_system
