"""Self-normalised importance sampling of expectations under the Boltzmann density (thesis eq 9).

``E_B[f] ≈ Σ_i w̄_i f(x_i)`` with ``w̄_i = w_i / Σ_j w_j`` and ``log w_i = −βU_B(x_i) −
log p_G(x_i)`` for samples ``x_i ~ p_G``; the unknown ``Z_B`` cancels. The delta-method
standard error is ``sqrt(Σ_i w̄_i² (f_i − Ê)²)``.
"""

from __future__ import annotations

import numpy as np

from molgen.estimate.ess import DEFAULT_THRESHOLD, EssThreshold, effective_sample_size
from molgen.estimate.influence import influence_stderr
from molgen.estimate.logspace import as_log_weights, normalized_weights
from molgen.estimate.result import Estimate, untrusted

__all__ = ["importance_expectation"]


def importance_expectation(
    values: np.ndarray,
    log_w: np.ndarray | None = None,
    threshold: EssThreshold = DEFAULT_THRESHOLD,
    correlated: bool = False,
) -> Estimate:
    """Self-normalised estimate of ``E_B[f]`` (thesis eq 9) with its delta-method error.

    Arguments:
        values: ``f(x_i)`` ``(n,)`` (any unit; the estimate has the same unit).
        log_w: unnormalised log importance weights ``(n,)``; ``None`` for samples of
            ``p_B`` itself (equal weights).
        threshold: least effective sample size at which a value is given.
        correlated: the samples are a time series (see :mod:`.influence`); the ESS is
            then divided by the statistical inefficiency of the weights and ``values``.

    Returns:
        :class:`Estimate`; untrusted when the ESS is below ``threshold`` or a sample of
        non-zero weight has a non-finite value (samples of zero weight are left out).

    Example:
        >>> importance_expectation(np.array([1.0, 3.0]), threshold=EssThreshold(1, 0)).value
        2.0
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    log_w = as_log_weights(log_w, values.size)
    # a sample of zero weight contributes nothing, whatever its value (NaN included:
    # the energy of a sample whose coordinates overflowed)
    values = np.where(np.isneginf(log_w), 0.0, values)
    if not np.isfinite(values).all():
        return untrusted("NaN or infinite values among the samples of non-zero weight")
    ess = effective_sample_size(log_w, correlated, series=values)
    refusal = threshold.refusal(ess, values.size)
    if refusal:
        return untrusted(refusal)
    weights = normalized_weights(log_w)
    mean = float(np.sum(weights * values))
    return Estimate(mean, influence_stderr(weights * (values - mean), correlated))
