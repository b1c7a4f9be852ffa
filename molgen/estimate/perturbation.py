"""Free-energy perturbation from one set of samples to another energy (thesis eq 51).

``ΔF_BC = F_C − F_B = −kT ln E_B[exp(−Δu)]`` with ``Δu = β(U_C − U_B)``, the expectation
under ``p_B`` estimated from samples of ``p_B`` (equal weights) or of a generator
(importance weights ``w``, thesis eq 9). In log space,
``ΔF_BC / kT = −[logsumexp(log w − Δu) − logsumexp(log w)]``.

Overlap diagnostics:

- the Kish ESS of the perturbed weights ``w exp(−Δu)``, which weigh the samples as
  draws from ``p_C``: the estimate is refused when it (or the ESS of ``w``) is below
  the threshold;
- the overlap coefficient ``∫ min(p_B, p_C) = E_B[min(1, p_C/p_B)]`` in ``[0, 1]``,
  estimated with the same weights (1: the same distribution; near 0: disjoint).

The standard error comes from influence terms ``kT (w̄_i − w̄_i^C)``, with ``w̄`` and
``w̄^C`` the normalised weights before and after the perturbation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from forcefields.errors import ConfigError
from molgen.estimate.ess import DEFAULT_THRESHOLD, EssThreshold, effective_sample_size
from molgen.estimate.influence import influence_stderr
from molgen.estimate.logspace import as_log_weights, normalized_weights
from molgen.estimate.result import Estimate, untrusted

__all__ = ["PerturbationResult", "free_energy_perturbation"]


@dataclass(frozen=True)
class PerturbationResult:
    """``ΔF_BC`` with the diagnostics of the overlap between ``p_B`` and ``p_C``.

    Attributes:
        delta_f: ``F_C − F_B`` in the unit of ``kT`` (untrusted when the overlap is poor).
        n: number of samples.
        ess: Kish ESS of the sample weights ``w`` (``n`` for samples of ``p_B``).
        ess_perturbed: Kish ESS of the perturbed weights ``w exp(−Δu)``.
        Both are divided, for a time series, by the largest statistical inefficiency of
        the weights and of the influence terms ``w̄ − w̄^C``
        (:func:`~molgen.estimate.ess.effective_sample_size`).
        overlap: overlap coefficient ``∫ min(p_B, p_C)`` estimated from the samples.
    """

    delta_f: Estimate
    n: int
    ess: float
    ess_perturbed: float
    overlap: float

    def as_dict(self) -> dict:
        """JSON-ready ``{"delta_f": {...}, "n", "ess", "ess_perturbed", "overlap"}``."""
        return {
            "delta_f": self.delta_f.as_dict(),
            "n": self.n,
            "ess": self.ess,
            "ess_perturbed": self.ess_perturbed,
            "overlap": self.overlap,
        }


def free_energy_perturbation(
    delta_u: np.ndarray,
    log_w: np.ndarray | None = None,
    kT: float = 1.0,
    correlated: bool = False,
    threshold: EssThreshold = DEFAULT_THRESHOLD,
) -> PerturbationResult:
    """``ΔF_BC = −kT ln E_B[exp(−β(U_C − U_B))]`` (thesis eq 51) with error and overlap.

    Arguments:
        delta_u: reduced energy differences ``β(U_C − U_B)`` ``(n,)`` (dimensionless) of
            samples weighted towards ``p_B``.
        log_w: unnormalised log importance weights ``(n,)`` of the samples for ``p_B``;
            ``None`` for samples of ``p_B`` itself.
        kT: thermal energy in the unit wanted for ``ΔF`` (1: units of kT).
        correlated: the samples are a time series (see :mod:`.influence`).
        threshold: least ESS of both ``w`` and ``w exp(−Δu)`` at which a value is given.

    Example:
        >>> result = free_energy_perturbation(np.full(100, 0.5))
        >>> round(result.delta_f.value, 6), round(result.ess_perturbed, 6)
        (0.5, 100.0)
    """
    delta_u = np.asarray(delta_u, dtype=np.float64).reshape(-1)
    if delta_u.size == 0:
        raise ConfigError("delta_u: no reduced energy differences (empty sample set)")
    if not (np.isfinite(kT) and kT > 0):
        raise ConfigError(f"kT: {kT} is not a positive thermal energy")
    if np.isnan(delta_u).any() or np.isneginf(delta_u).any():
        raise ConfigError("delta_u: NaN or -inf reduced energy difference")
    log_w = as_log_weights(log_w, delta_u.size)
    log_w_perturbed = log_w - delta_u
    n = delta_u.size
    if np.isneginf(log_w_perturbed).all():
        return PerturbationResult(
            untrusted("overlap too poor: every sample has infinite energy under U_C"),
            n,
            effective_sample_size(log_w, correlated),
            0.0,
            0.0,
        )
    weights, weights_perturbed = normalized_weights(log_w), normalized_weights(log_w_perturbed)
    influence = weights - weights_perturbed
    ess = effective_sample_size(log_w, correlated, series=influence)
    ess_perturbed = effective_sample_size(log_w_perturbed, correlated, series=influence)
    reduced_delta_f = -(logsumexp(log_w_perturbed) - logsumexp(log_w))
    overlap = float(np.sum(weights * np.exp(np.minimum(0.0, reduced_delta_f - delta_u))))
    refusal = threshold.refusal(ess, n, "sample weights") or threshold.refusal(
        ess_perturbed, n, "perturbed weights"
    )
    if refusal:
        return PerturbationResult(untrusted(refusal), n, ess, ess_perturbed, overlap)
    estimate = Estimate(kT * float(reduced_delta_f), influence_stderr(kT * influence, correlated))
    return PerturbationResult(estimate, n, ess, ess_perturbed, overlap)
