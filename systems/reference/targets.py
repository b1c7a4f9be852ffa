"""What ``molgen reference`` samples for a system of :func:`systems.load`.

Molecules (``butane``, ``dialanine``, registered or directory systems) go to OpenMM
parallel tempering with their psf/prm system; toys (the double wells) go to the torch
Metropolis sampler. Each target brings its mode labels and per-frame observables
(radians for angles); a system without modes gets a single mode ``"all"``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch

import systems

__all__ = [
    "SINGLE_MODE",
    "MoleculeTarget",
    "VectorTarget",
    "mode_labels",
    "reference_target",
]

SINGLE_MODE = ("all",)
"""Mode names of a system that defines no modes: every frame has label 0."""

ArrayFunction = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class MoleculeTarget:
    """A CHARMM molecule for OpenMM parallel tempering.

    Arguments:
        name: system name.
        openmm_system: vacuum OpenMM system built from the psf/prm, no constraints.
        positions: ``(N, 3)`` minimised coordinates in nm.
        topology: ``mdtraj.Topology`` for trajectories (dialanine: ACE/ALA/NME residues).
        labels: ``(B, N, 3)`` nm -> ``(B,)`` mode labels.
        mode_names: names of the labels.
        observables: name -> ``(B, N, 3)`` nm -> ``(B,)`` values.
    """

    name: str
    openmm_system: object
    positions: np.ndarray
    topology: object
    labels: ArrayFunction
    mode_names: tuple[str, ...]
    observables: Mapping[str, ArrayFunction]


@dataclass(frozen=True)
class VectorTarget:
    """A torch energy on vectors ``(B, D)`` (dimensionless, ``β = 1/T``) for Metropolis PT.

    Arguments:
        name: system name.
        energy: ``(B, D) -> (B,)`` energy at ``β = 1``.
        initial: ``(D,)`` float64 starting point (the origin).
        labels: ``(B, D) -> (B,)`` mode labels (torch).
        mode_names: names of the labels.
        observables: name -> ``(B, D)`` numpy -> ``(B,)`` values.
    """

    name: str
    energy: Callable[[torch.Tensor], torch.Tensor]
    initial: torch.Tensor
    labels: Callable[[torch.Tensor], torch.Tensor]
    mode_names: tuple[str, ...]
    observables: Mapping[str, ArrayFunction]


def mode_labels(system: systems.System) -> tuple[Callable, tuple[str, ...]]:
    """The label function of ``system`` (coordinates → ``(B,)`` labels) and the mode names.

    A system without modes gets one mode, :data:`SINGLE_MODE`, and all-zero labels.
    """
    if system.mode_function is None:
        return (lambda x: torch.zeros(len(x), dtype=torch.int64)), SINGLE_MODE
    return system.modes, tuple(system.mode_names)


def reference_target(name: str, variant: str = "default") -> MoleculeTarget | VectorTarget:
    """The target of ``systems.load(name, variant=variant)``.

    Raises:
        UnknownNameError: unknown system or variant; InputFileError: unreadable files.
    """
    system = systems.load(name, variant=variant)
    labels, mode_names = mode_labels(system)
    if system.kind == "toy":
        return VectorTarget(
            name=system.name,
            energy=system.toy_energy,
            initial=torch.zeros(system.dimension, dtype=torch.float64),
            labels=lambda x: torch.as_tensor(labels(x)).to(torch.int64),
            mode_names=mode_names,
            observables=dict(system.observables),
        )
    from forcefields.openmm_oracle import build_openmm_system

    openmm_system, _ = build_openmm_system(system.psf, list(system.prm))
    return MoleculeTarget(
        name=system.name,
        openmm_system=openmm_system,
        positions=system.positions,
        topology=system.topology,
        labels=lambda x: np.asarray(labels(x)),
        mode_names=mode_names,
        observables=dict(system.observables),
    )
