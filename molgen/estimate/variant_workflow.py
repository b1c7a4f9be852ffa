"""Force-field validation workflow: from samples of the default parameters, predict state
populations and free energies under other CHARMM parameters by reweighting
(:func:`reweight_to_parameters`), or, with samples of both parameter sets, compute
``ΔF_BC`` by BAR with FEP cross-checks (:func:`bar_to_parameters`).

Both energies are evaluated on the stored frames (exact, unclipped, no alignment term):
``βU_B`` with the system's own parameters and ``βU_C`` with the variant's psf/prm (the
variant may use different atom types, hence its own psf, but must have the same atoms in
the same order: each atom's element and the bonds are checked). The reweighting itself
is :func:`~molgen.estimate.forcefield.predict_variant`; BAR is
:func:`~molgen.estimate.two_sets.two_set_free_energy`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from forcefields.errors import ConfigError, ShapeMismatchError
from molgen.estimate.context import SampleContext
from molgen.estimate.energies import reduced_energies
from molgen.estimate.ess import DEFAULT_THRESHOLD, EssThreshold
from molgen.estimate.forcefield import VariantPrediction, predict_variant
from molgen.estimate.states import group_states
from molgen.estimate.two_sets import TwoSetResult, two_set_free_energy

__all__ = ["bar_to_parameters", "reweight_to_parameters"]


def _energies(context: SampleContext, psf: Path | str, prm: Sequence[Path | str]):
    """``(U_B, U_C)``: the system's float64 energy and the variant's, same atoms."""
    from forcefields.charmm_reader import read_charmm
    from forcefields.energy import Energy

    if context.system is None or context.system.kind != "molecule":
        raise ConfigError("force-field reweighting needs samples of a CHARMM molecule system")
    default = context.system.energy(dtype=torch.float64)
    parameters = read_charmm(psf, [Path(p) for p in prm])
    _check_same_atoms(psf, parameters, context.system)
    return default, Energy(parameters).to(dtype=torch.float64)


def _check_same_atoms(psf: Path | str, parameters, system) -> None:
    """Raise :class:`ShapeMismatchError` unless the variant's psf has the system's atoms
    (elements, in the same order) and bonds; its atom types may differ."""
    if parameters.n_atoms != system.n_atoms:
        raise ShapeMismatchError(
            f"{psf}: {parameters.n_atoms} atoms, but system {system.name} has {system.n_atoms}"
        )
    atoms = list(system.topology.atoms)
    for index, (atom, number) in enumerate(zip(atoms, parameters.atomic_numbers, strict=True)):
        if atom.element.atomic_number != number:
            raise ShapeMismatchError(
                f"{psf}: atom {index + 1} ({parameters.atom_names[index]}) has atomic number "
                f"{number}, but atom {index + 1} of system {system.name} is {atom.element.symbol} "
                f"({atom.name}): the variant must list the same atoms in the same order"
            )
    bonds = {tuple(sorted((bond[0].index, bond[1].index))) for bond in system.topology.bonds}
    variant_bonds = {tuple(sorted(map(int, pair))) for pair in parameters.bond_indices}
    differing = sorted(bonds ^ variant_bonds)
    if differing:
        first, second = differing[0]
        where = "only in the variant" if differing[0] in variant_bonds else "missing in the variant"
        raise ShapeMismatchError(
            f"{psf}: bond {first + 1}-{second + 1} is {where} ({len(differing)} bonds differ "
            f"from system {system.name}): the variant must have the same atoms and bonds"
        )


def _frames(context: SampleContext, n_atoms: int) -> np.ndarray:
    frames = context.require_coordinates()
    if frames.ndim != 3 or frames.shape[1:] != (n_atoms, 3):
        raise ShapeMismatchError(
            f"{context.samples.sidecar}: frames of shape {frames.shape[1:]}, "
            f"expected ({n_atoms}, 3) atoms of the system"
        )
    return frames


def reweight_to_parameters(
    context: SampleContext,
    psf: Path | str,
    prm: Sequence[Path | str],
    states: Sequence[str] | None = None,
    groups: dict[str, Sequence[str]] | None = None,
    correlated: bool = False,
    threshold: EssThreshold = DEFAULT_THRESHOLD,
    batch_size: int = 4096,
) -> tuple[VariantPrediction, dict]:
    """Predict the variant ``(psf, prm)``'s populations and ``ΔF`` (units of kT) by reweighting.

    Arguments:
        context: samples of the default parameters with their (molecule) system,
            coordinates and mode labels.
        psf, prm: the variant's CHARMM files.
        states: states whose pairwise ``ΔF`` is reported (default all of the system's).
        groups: merged states, e.g. ``{"gauche": ["gauche+", "gauche-"]}``
            (see :func:`~molgen.estimate.states.group_states`).
        correlated: the samples are a time series (MD, parallel tempering).
        threshold: least ESS of the reweighted samples at which numbers are given.
        batch_size: frames per energy evaluation.

    Returns:
        ``(prediction, energies)`` with ``energies = {"u_default", "u_variant"}`` ``(n,)``.
    """
    default, variant = _energies(context, psf, prm)
    frames = _frames(context, default.n_atoms)
    labels, names = context.labels, context.mode_names
    if states or groups:
        labels = context.require_labels()
    if labels is not None and groups:
        labels, names = group_states(labels, names, groups)
    weightless = np.isneginf(context.samples.log_w)
    u_default = reduced_energies(default, frames, context.beta, batch_size, weightless)
    u_variant = reduced_energies(variant, frames, context.beta, batch_size, weightless)
    prediction = predict_variant(
        labels,
        names,
        u_default,
        u_variant,
        context.samples.log_w,
        states=states,
        correlated=correlated,
        threshold=threshold,
    )
    return prediction, {"u_default": u_default, "u_variant": u_variant}


def bar_to_parameters(
    context_b: SampleContext,
    context_c: SampleContext,
    psf: Path | str,
    prm: Sequence[Path | str],
    correlated: bool | tuple[bool, bool] = False,
    threshold: EssThreshold = DEFAULT_THRESHOLD,
    batch_size: int = 4096,
    seed: int = 0,
    energies_b: dict | None = None,
) -> TwoSetResult:
    """``ΔF_BC = F_C − F_B`` (units of kT) from samples of both parameter sets, by BAR.

    Every frame is evaluated under both energies (``U_B``: ``context_b``'s system;
    ``U_C``: ``psf``/``prm``), at ``context_b``'s temperature; each set keeps its
    sidecar's ``log_w`` (equal weights: samples of the distribution itself).

    Arguments:
        context_b: samples of ``p_B`` (the system's own parameters).
        context_c: samples of ``p_C`` (the variant), same atoms in the same order.
        psf, prm: the variant's CHARMM files.
        correlated: whether the sets are time series (decorrelated before BAR): one flag
            for both, or ``(B, C)``.
        threshold: least ESS at which the FEP cross-checks are given.
        batch_size: frames per energy evaluation.
        seed: seed of the resampling of weighted sets.
        energies_b: ``{"u_default", "u_variant"}`` ``(n_B,)`` already evaluated on
            ``context_b``'s frames (see :func:`reweight_to_parameters`), or ``None``.

    Raises:
        ShapeMismatchError: frames or variant with other atoms than the system.
        ConfigError: ``context_c``'s system at another temperature than ``context_b``'s.
        TooFewSamplesError: a set too small for BAR after decorrelation / resampling.
    """
    default, variant = _energies(context_b, psf, prm)
    beta = context_b.beta
    if context_c.system is not None and not math.isclose(context_c.beta, beta, rel_tol=1e-9):
        raise ConfigError(
            f"{context_c.samples.sidecar}: samples of C at temperature "
            f"{context_c.system.temperature:g}, but {context_b.samples.sidecar} (B) at "
            f"{context_b.system.temperature:g}: BAR needs both sets at one temperature"
        )
    if energies_b is None:
        frames_b = _frames(context_b, default.n_atoms)
        weightless_b = np.isneginf(context_b.samples.log_w)
        energies_b = {
            "u_default": reduced_energies(default, frames_b, beta, batch_size, weightless_b),
            "u_variant": reduced_energies(variant, frames_b, beta, batch_size, weightless_b),
        }
    frames_c = _frames(context_c, default.n_atoms)
    weightless_c = np.isneginf(context_c.samples.log_w)
    u_b_of_c = reduced_energies(default, frames_c, beta, batch_size, weightless_c)
    u_c_of_c = reduced_energies(variant, frames_c, beta, batch_size, weightless_c)
    return two_set_free_energy(
        energies_b["u_variant"] - energies_b["u_default"],
        u_b_of_c - u_c_of_c,
        context_b.samples.log_w,
        context_c.samples.log_w,
        correlated=correlated,
        threshold=threshold,
        seed=seed,
        labels=(str(context_b.samples.sidecar), str(context_c.samples.sidecar)),
    )
