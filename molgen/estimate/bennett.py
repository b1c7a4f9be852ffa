"""BAR and MBAR through pymbar, for free energies when samples of every state exist.

Overlap: pymbar's overlap matrix ``O`` (``O[i, j]``: probability that a sample of state
``i`` is observed in state ``j``) and its scalar ``1 − λ₂`` (second-largest eigenvalue).
An estimate is refused when the scalar is below ``min_overlap`` (default 0.03, the
smallest off-diagonal overlap usually considered reliable for BAR/MBAR; below it the
asymptotic error bars understate the real error).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from forcefields.errors import ConfigError
from molgen.estimate.result import Estimate, untrusted
from systems.reference.quiet import quiet

__all__ = [
    "DEFAULT_MIN_OVERLAP",
    "BarResult",
    "MbarResult",
    "bar_free_energy",
    "mbar_free_energies",
]

DEFAULT_MIN_OVERLAP = 0.03


def _pymbar():
    with quiet("pymbar"):
        import pymbar
    return pymbar


def _poor_overlap(method: str, overlap: float, min_overlap: float) -> Estimate:
    """The untrusted estimate of ``method`` (``"BAR"``, ``"MBAR"``) whose overlap scalar
    ``overlap`` is below ``min_overlap``."""
    return untrusted(f"overlap too poor: {method} overlap {overlap:.3g} < {min_overlap}")


@dataclass(frozen=True)
class BarResult:
    """``ΔF = F_C − F_B`` from BAR, with the overlap scalar of the two sample sets."""

    delta_f: Estimate
    overlap: float

    def as_dict(self) -> dict:
        """JSON-ready ``{"delta_f": {...}, "overlap"}``."""
        return {"delta_f": self.delta_f.as_dict(), "overlap": self.overlap}


def _reduced_work(values: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if values.size < 2 or not np.isfinite(values).all():
        raise ConfigError(f"{name}: need at least two finite reduced energy differences")
    return values


def _check_kT(kT: float) -> None:
    if not (math.isfinite(kT) and kT > 0):
        raise ConfigError(f"kT: {kT} is not a positive thermal energy")


def bar_free_energy(
    forward: np.ndarray,
    reverse: np.ndarray,
    kT: float = 1.0,
    min_overlap: float = DEFAULT_MIN_OVERLAP,
) -> BarResult:
    """Bennett's acceptance ratio ``ΔF = F_C − F_B`` (``pymbar.bar``).

    Arguments:
        forward: ``β(U_C − U_B)`` ``(n_B,)`` on independent samples of ``p_B``.
        reverse: ``β(U_B − U_C)`` ``(n_C,)`` on independent samples of ``p_C``.
        kT: thermal energy in the unit wanted for ``ΔF`` (1: units of kT).
        min_overlap: least overlap scalar at which a value is given.

    Returns:
        The estimate, untrusted ("BAR did not converge: ...", overlap 0) when pymbar
        fails (its ``ParameterError``, ``BoundsError`` or ``ConvergenceError``, or a
        linear-algebra or floating-point error), when it returns a non-finite ``ΔF`` or
        standard error, or when the overlap is below ``min_overlap``. Where pymbar 4's
        BAR error bar overflows (NaN, without raising, once a single work exceeds about
        700) the error is MBAR's for the same two states, asymptotically the same.
    """
    forward = _reduced_work(forward, "forward")
    reverse = _reduced_work(reverse, "reverse")
    _check_kT(kT)
    pymbar = _pymbar()
    utils = pymbar.utils
    try:
        with quiet("pymbar"), np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            result = pymbar.bar(forward, reverse)
            u_kn = np.zeros((2, forward.size + reverse.size))
            u_kn[1, : forward.size] = forward
            u_kn[0, forward.size :] = reverse
            mbar = pymbar.MBAR(
                u_kn, [forward.size, reverse.size], initial_f_k=[0.0, result["Delta_f"]]
            )
            overlap = float(np.real(mbar.compute_overlap()["scalar"]))
            delta_f, stderr = float(result["Delta_f"]), float(result["dDelta_f"])
            if math.isfinite(delta_f) and not math.isfinite(stderr):
                # bar's variance formula overflows once one work exceeds ~700; MBAR's
                # asymptotic error of the same two states does not
                stderr = float(mbar.compute_free_energy_differences()["dDelta_f"][0, 1])
    except (
        utils.ParameterError,
        utils.BoundsError,
        utils.ConvergenceError,
        np.linalg.LinAlgError,
        FloatingPointError,
    ) as error:
        message = " ".join(str(error).split())
        return BarResult(untrusted(f"BAR did not converge: {message}"), 0.0)
    if not (math.isfinite(delta_f) and math.isfinite(stderr)):
        reason = f"BAR did not converge: pymbar gave ΔF = {delta_f:.4g} ± {stderr:.4g} kT"
        return BarResult(untrusted(reason), overlap)
    if overlap < min_overlap:
        return BarResult(_poor_overlap("BAR", overlap, min_overlap), overlap)
    return BarResult(Estimate(kT * delta_f, kT * stderr), overlap)


@dataclass(frozen=True)
class MbarResult:
    """MBAR free energies of ``K`` states relative to each other.

    Attributes:
        delta_f: ``(K, K)`` ``F_j − F_i`` in the unit of ``kT``.
        stderr: ``(K, K)`` asymptotic standard errors.
        overlap_matrix: ``(K, K)`` pymbar overlap matrix.
        overlap: its scalar ``1 − λ₂``.
        min_overlap: the refusal threshold on ``overlap``.
    """

    delta_f: np.ndarray
    stderr: np.ndarray
    overlap_matrix: np.ndarray
    overlap: float
    min_overlap: float

    def estimate(self, i: int, j: int) -> Estimate:
        """``F_j − F_i`` as an :class:`Estimate`, untrusted when the overlap is too poor."""
        if self.overlap < self.min_overlap:
            return _poor_overlap("MBAR", self.overlap, self.min_overlap)
        return Estimate(float(self.delta_f[i, j]), float(self.stderr[i, j]))


def mbar_free_energies(
    u_kn: np.ndarray,
    n_k: np.ndarray,
    kT: float = 1.0,
    min_overlap: float = DEFAULT_MIN_OVERLAP,
) -> MbarResult:
    """MBAR (``pymbar.MBAR``) free energies of ``K`` states from their pooled samples.

    Arguments:
        u_kn: ``(K, N)`` reduced energies ``β_k U_k(x_n)`` of every pooled sample in every
            state, samples ordered state by state.
        n_k: ``(K,)`` number of samples drawn from each state (sums to ``N``).
        kT: thermal energy in the unit wanted (1: units of kT).
        min_overlap: least overlap scalar at which :meth:`MbarResult.estimate` gives values.
    """
    u_kn = np.asarray(u_kn, dtype=np.float64)
    counts = np.asarray(n_k, dtype=np.float64)
    if counts.ndim != 1 or (counts < 0).any() or (counts != np.round(counts)).any():
        raise ConfigError(f"MBAR: N_k {np.asarray(n_k).tolist()} are not sample counts >= 0")
    n_k = counts.astype(np.int64)
    if u_kn.ndim != 2 or u_kn.shape[0] != n_k.size or u_kn.shape[1] != n_k.sum():
        raise ConfigError(f"MBAR: u_kn shape {u_kn.shape} does not match N_k {n_k.tolist()}")
    if np.isnan(u_kn).any() or np.isneginf(u_kn).any():
        raise ConfigError("MBAR: u_kn holds NaN or -inf reduced energies")
    _check_kT(kT)
    pymbar = _pymbar()
    with quiet("pymbar"):
        mbar = pymbar.MBAR(u_kn, n_k)
        differences = mbar.compute_free_energy_differences()
        overlap = mbar.compute_overlap()
    return MbarResult(
        delta_f=kT * np.asarray(differences["Delta_f"]),
        stderr=kT * np.asarray(differences["dDelta_f"]),
        overlap_matrix=np.asarray(overlap["matrix"]),
        overlap=float(np.real(overlap["scalar"])),
        min_overlap=min_overlap,
    )
