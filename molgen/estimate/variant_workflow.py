"""Force-field validation workflow: from samples of the default parameters, predict state
populations and free energies under other CHARMM parameters by reweighting.

Both energies are evaluated on the stored frames (exact, unclipped, no alignment term):
``βU_B`` with the system's own parameters and ``βU_C`` with the variant's psf/prm (the
variant may use different atom types, hence its own psf, but must have the same atoms in
the same order). The reweighting itself is :func:`~molgen.estimate.forcefield.predict_variant`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from forcefields.errors import ConfigError
from molgen.estimate.context import SampleContext
from molgen.estimate.energies import reduced_energies
from molgen.estimate.ess import DEFAULT_THRESHOLD, EssThreshold
from molgen.estimate.forcefield import VariantPrediction, predict_variant
from molgen.estimate.states import group_states

__all__ = ["reweight_to_parameters"]


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
    import forcefields

    if context.system is None or context.system.kind != "molecule":
        raise ConfigError("force-field reweighting needs samples of a CHARMM molecule system")
    frames = context.require_coordinates()
    labels, names = context.labels, context.mode_names
    if states or groups:
        labels = context.require_labels()
    if labels is not None and groups:
        labels, names = group_states(labels, names, groups)
    default = context.system.energy(dtype=torch.float64)
    variant = forcefields.load(psf, [Path(p) for p in prm], dtype=torch.float64)
    u_default = reduced_energies(default, frames, context.beta, batch_size)
    u_variant = reduced_energies(variant, frames, context.beta, batch_size)
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
