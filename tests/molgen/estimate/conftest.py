"""Sample files for the command-line tests: generator-like samples of a double well, and
short OpenMM molecular-dynamics frames of butane with the default parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import systems
from tests.molgen.estimate.gaussians import log_normal_density

PROPOSAL_STD = 1.5
BUTANE_FRAMES_PER_CHAIN = 150


def write_sidecar(path: Path, **arrays) -> Path:
    """Write per-sample arrays as the ``.npz`` sidecar ``molgen sample`` produces."""
    np.savez(path, **arrays)
    return path


def double_well_samples(path: Path, n: int, mean: float, std: float, seed: int) -> Path:
    """Samples of ``N(mean, std²)`` in 2-D as if from a generator, for ``double_well_2d``."""
    system = systems.load("double_well_2d")
    x = np.random.default_rng(seed).normal(mean, std, (n, 2))
    log_p_g = log_normal_density(x, mean, std).sum(axis=1)
    with torch.no_grad():
        u_b = system.beta * system.energy()(torch.as_tensor(x)).numpy()
    return write_sidecar(
        path,
        x=x,
        log_p_g=log_p_g,
        u_b=u_b,
        log_w=-u_b - log_p_g,
        modes=np.asarray(system.modes(x)),
        system=np.array("double_well_2d"),
    )


@pytest.fixture
def toy_samples(tmp_path) -> Path:
    """4000 proposal samples covering both wells of ``double_well_2d``."""
    return double_well_samples(tmp_path / "samples.npz", 4_000, 0.0, PROPOSAL_STD, seed=0)


def _rotate_about_central_bond(positions: np.ndarray, angle: float) -> np.ndarray:
    """Turn the C3 half of butane about the C2-C3 bond by ``angle`` radians."""
    system = systems.load("butane")
    c2, c3 = 6, 9
    graph = {atom.index: set() for atom in system.topology.atoms}
    for bond in system.topology.bonds:
        graph[bond[0].index].add(bond[1].index)
        graph[bond[1].index].add(bond[0].index)
    moving, frontier = {c3}, [c3]
    while frontier:
        for neighbour in graph[frontier.pop()] - moving - {c2}:
            moving.add(neighbour)
            frontier.append(neighbour)
    axis = positions[c3] - positions[c2]
    axis /= np.linalg.norm(axis)
    cos, sin = np.cos(angle), np.sin(angle)
    rotated = positions.copy()
    for atom in moving:
        v = positions[atom] - positions[c2]
        v = v * cos + np.cross(axis, v) * sin + axis * np.dot(axis, v) * (1 - cos)
        rotated[atom] = positions[c2] + v
    return rotated


def butane_md(psf: Path, prm: list[Path], seed: int) -> np.ndarray:
    """``(450, 14, 3)`` nm: three 300 K Langevin chains of butane with parameters
    ``psf``/``prm``, started in trans and both gauche wells, one frame every 200 fs after
    1 ps of equilibration (OpenMM Reference platform, seeds ``seed + chain``)."""
    import openmm
    from openmm import unit

    from forcefields.openmm_oracle import build_openmm_system

    butane = systems.load("butane")
    frames = []
    for chain, angle in enumerate((0.0, 2 * np.pi / 3, -2 * np.pi / 3)):
        openmm_system, _ = build_openmm_system(psf, list(prm))
        integrator = openmm.LangevinMiddleIntegrator(
            300 * unit.kelvin, 5 / unit.picosecond, 1 * unit.femtosecond
        )
        integrator.setRandomNumberSeed(seed + chain)
        context = openmm.Context(
            openmm_system, integrator, openmm.Platform.getPlatformByName("Reference")
        )
        context.setPositions(_rotate_about_central_bond(butane.positions, angle))
        context.setVelocitiesToTemperature(300 * unit.kelvin, seed - 6 + chain)
        integrator.step(1_000)
        for _ in range(BUTANE_FRAMES_PER_CHAIN):
            integrator.step(200)
            state = context.getState(getPositions=True)
            frames.append(state.getPositions(asNumpy=True).value_in_unit(unit.nanometer))
    return np.asarray(frames, dtype=np.float64)


@pytest.fixture(scope="session")
def butane_md_frames() -> np.ndarray:
    """:func:`butane_md` frames of default butane."""
    butane = systems.load("butane")
    return butane_md(butane.psf, list(butane.prm), seed=11)


@pytest.fixture(scope="session")
def butane_lipid_md_frames() -> np.ndarray:
    """:func:`butane_md` frames of butane with the CHARMM36-lipid parameters."""
    from systems.files import charmm_files

    lipid = charmm_files("butane", "lipid")
    return butane_md(lipid.psf, [lipid.prm], seed=21)


def write_butane_samples(folder: Path, frames: np.ndarray, log_w: np.ndarray | None = None) -> Path:
    """``frames`` laid out as ``molgen sample`` writes a molecule (``samples.dcd``,
    ``samples.pdb``, ``samples.dcd.npz`` with ``mode_names`` and no system name), weighted
    as samples of their own distribution (``log_w = 0``) unless ``log_w`` is given."""
    import mdtraj

    butane = systems.load("butane")
    folder.mkdir(parents=True, exist_ok=True)
    trajectory = mdtraj.Trajectory(frames.astype(np.float32), butane.topology)
    trajectory.save_dcd(str(folder / "samples.dcd"))
    trajectory[0].save_pdb(str(folder / "samples.pdb"))
    n = len(frames)
    return write_sidecar(
        folder / "samples.dcd.npz",
        log_w=np.zeros(n) if log_w is None else log_w,
        modes=np.asarray(butane.modes(frames)),
        mode_names=np.array(butane.mode_names),
    )


@pytest.fixture
def butane_samples(tmp_path, butane_md_frames) -> Path:
    """The default-parameter MD frames as :func:`write_butane_samples` lays them out."""
    return write_butane_samples(tmp_path, butane_md_frames)
