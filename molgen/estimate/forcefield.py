"""Force-field validation by reweighting: populations and state free energies under a
parameter variant ``U_C``, predicted from samples weighted towards the default ``U_B``.

The samples' weights for ``p_C`` are ``log w_C = log w − β(U_C − U_B)`` (thesis eq 9 with
eq 51's perturbation factor); every estimate uses them self-normalised, and is refused
(``trusted=False``, "too few effective samples") when their Kish ESS is below the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from forcefields.errors import ConfigError, ShapeMismatchError
from molgen.estimate.ess import DEFAULT_THRESHOLD, EssThreshold
from molgen.estimate.logspace import as_log_weights
from molgen.estimate.perturbation import PerturbationResult, free_energy_perturbation
from molgen.estimate.result import Estimate, untrusted
from molgen.estimate.states import state_free_energies, state_populations

__all__ = ["VariantPrediction", "predict_variant"]


def _table(estimates: dict[str, Estimate]) -> dict:
    return {name: estimate.as_dict() for name, estimate in estimates.items()}


@dataclass(frozen=True)
class VariantPrediction:
    """State statistics under the default energy ``U_B`` and predicted under ``U_C``.

    Attributes:
        perturbation: ``ΔF_BC = F_C − F_B`` of the whole ensemble, with the ESS of the
            perturbed weights and the overlap coefficient.
        populations_default, populations_variant: ``{state: Estimate}`` fractions.
        free_energies_default, free_energies_variant: ``{"a->b": Estimate}``,
            ``F_b − F_a`` in the unit of ``kT``.
    """

    perturbation: PerturbationResult
    populations_default: dict[str, Estimate]
    populations_variant: dict[str, Estimate]
    free_energies_default: dict[str, Estimate]
    free_energies_variant: dict[str, Estimate]

    @property
    def trusted(self) -> bool:
        """Whether every variant estimate (ΔF_BC, populations, free energies) is given."""
        variant = (*self.populations_variant.values(), *self.free_energies_variant.values())
        return self.perturbation.delta_f.trusted and all(estimate.trusted for estimate in variant)

    def as_dict(self) -> dict:
        """JSON-ready form of every field, plus ``trusted``."""
        return {
            "trusted": self.trusted,
            "perturbation": self.perturbation.as_dict(),
            "populations_default": _table(self.populations_default),
            "populations_variant": _table(self.populations_variant),
            "free_energies_default": _table(self.free_energies_default),
            "free_energies_variant": _table(self.free_energies_variant),
        }


def predict_variant(
    labels: np.ndarray | None,
    state_names: Sequence[str],
    reduced_default: np.ndarray,
    reduced_variant: np.ndarray,
    log_w: np.ndarray | None = None,
    kT: float = 1.0,
    states: Sequence[str] | None = None,
    correlated: bool = False,
    threshold: EssThreshold = DEFAULT_THRESHOLD,
) -> VariantPrediction:
    """Predict state populations and ``ΔF`` under a force-field variant by reweighting.

    Arguments:
        labels: integer state labels ``(n,)``; ``None`` gives the ensemble ``ΔF_BC`` only.
        state_names: names of labels ``0, 1, ...``.
        reduced_default: ``βU_B`` ``(n,)`` of the samples (dimensionless).
        reduced_variant: ``βU_C`` ``(n,)`` of the same samples under the variant.
        log_w: unnormalised log weights ``(n,)`` of the samples for ``p_B``; ``None``
            for samples of ``p_B`` (MD, parallel tempering).
        kT: thermal energy in the unit wanted for free energies (1: units of kT).
        states: the states whose pairwise ``ΔF`` is reported (default: all).
        correlated: the samples are a time series.
        threshold: least ESS at which estimates are given.
    """
    reduced_default = np.asarray(reduced_default, dtype=np.float64).reshape(-1)
    reduced_variant = np.asarray(reduced_variant, dtype=np.float64).reshape(-1)
    n = reduced_default.size
    if reduced_variant.shape != (n,) or (labels is not None and np.size(labels) != n):
        counted = "no" if labels is None else np.size(labels)
        raise ShapeMismatchError(
            f"predict_variant: {counted} labels, {n} default and "
            f"{reduced_variant.size} variant energies"
        )
    log_w = as_log_weights(log_w, n)
    weightless = np.isneginf(log_w)
    for name, values in (
        ("reduced_default", reduced_default),
        ("reduced_variant", reduced_variant),
    ):
        if np.isnan(values[~weightless]).any():
            raise ConfigError(f"predict_variant: {name}: NaN reduced energy")
    # a sample of zero weight (e.g. one whose coordinates overflowed) keeps weight zero
    delta_u = np.where(weightless, 0.0, reduced_variant - reduced_default)
    log_w_variant = log_w - delta_u
    options = {"correlated": correlated, "threshold": threshold}
    perturbation = free_energy_perturbation(delta_u, log_w, kT, **options)
    if labels is None:
        return VariantPrediction(perturbation, {}, {}, {}, {})
    populations_default = state_populations(labels, state_names, log_w, **options)
    free_energies_default = state_free_energies(labels, state_names, kT, log_w, states, **options)
    if np.isneginf(log_w_variant).all():
        # Every sample has zero weight under U_C: refuse, as the perturbation does.
        refusal = untrusted(perturbation.delta_f.reason)
        return VariantPrediction(
            perturbation,
            populations_default,
            dict.fromkeys(populations_default, refusal),
            free_energies_default,
            dict.fromkeys(free_energies_default, refusal),
        )
    return VariantPrediction(
        perturbation=perturbation,
        populations_default=populations_default,
        populations_variant=state_populations(labels, state_names, log_w_variant, **options),
        free_energies_default=free_energies_default,
        free_energies_variant=state_free_energies(
            labels, state_names, kT, log_w_variant, states, **options
        ),
    )
