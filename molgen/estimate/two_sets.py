"""``ΔF_BC = F_C − F_B`` from samples of both ``p_B`` and ``p_C``: BAR (``pymbar.bar``) with
one-sided free-energy perturbation in both directions as a cross-check.

Inputs are the reduced works ``β(U_C − U_B)`` on the samples of ``B`` (forward) and
``β(U_B − U_C)`` on the samples of ``C`` (reverse), dimensionless, with each set's own
log importance weights (``None``: samples of the distribution itself, e.g. MD or
parallel-tempering frames). Before BAR, which needs independent, equally weighted
samples:

- a time series (``correlated``) is cut to frames about ``g`` apart, ``g`` the
  statistical inefficiency of its reduced-work series (``pymbar.timeseries``). Frames
  ``g`` apart are still correlated (about ``e^{-2}`` for an exponential decay), so BAR's
  error is multiplied by the square root of the largest statistical inefficiency left in
  the two cut series: on AR(1) chains (lag-one correlation 0.9, 4,000 frames a side)
  pymbar's error alone covered 0.86 of the time at 2 standard errors;
- a weighted set (generator samples) is **resampled by its normalised weights**:
  systematic resampling of ``m = floor(Kish ESS)`` draws (seeded). pymbar counts the
  ``m`` draws as independent, which leaves out the weights' own noise and that of the
  resampling (its error was 0.79–0.98 of the spread of BAR on Gaussians with Kish ESS
  385–863 of 1000). The error is instead the standard deviation of BAR over
  :data:`BOOTSTRAP_REPLICATES` bootstrap replicates of both sets, each drawn with
  replacement from the (cut) samples with their weights and resampled to its own ESS,
  or pymbar's error where that is larger.

The FEP cross-checks use every sample with its weights
(:func:`~molgen.estimate.perturbation.free_energy_perturbation`, with the autocorrelation
correction for a time series): forward from ``B``, reverse from ``C`` (reported as
``F_C − F_B``). Each pair of trusted estimates is compared
(:func:`~molgen.estimate.report.comparison_entry`); they are flagged as inconsistent when
they differ by more than 2 combined standard errors. The three estimates share samples,
so the combined error overstates the error of their difference: a flag is meaningful, its
absence is weak evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from forcefields.errors import ConfigError, TooFewSamplesError
from molgen.estimate.bennett import DEFAULT_MIN_OVERLAP, BarResult, bar_free_energy
from molgen.estimate.ess import DEFAULT_THRESHOLD, EssThreshold, kish_ess
from molgen.estimate.logspace import as_log_weights, normalized_weights
from molgen.estimate.perturbation import PerturbationResult, free_energy_perturbation
from molgen.estimate.report import comparison_entry, free_energy_entry
from molgen.estimate.result import Estimate, untrusted
from systems.reference.timeseries import decorrelated_indices, statistical_inefficiency

__all__ = [
    "MIN_BAR_SAMPLES",
    "SetUsage",
    "TwoSetResult",
    "systematic_resample",
    "two_set_free_energy",
]

BOOTSTRAP_REPLICATES = 100
"""Bootstrap replicates behind BAR's error when a set is weighted: the standard deviation
of 100 replicates is itself uncertain by about 7 %."""

MIN_BAR_SAMPLES = 10
"""Least independent (decorrelated, resampled) samples per set passed to BAR: below ten
the asymptotic error bar is itself too noisy to judge the estimate by."""


def systematic_resample(log_w: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """Indices ``(m,)`` of ``m`` draws by systematic resampling of normalised weights.

    One uniform offset ``u`` and the points ``(u + k) / m``; sample ``i`` is drawn
    ``floor`` or ``ceil`` of ``m w̄_i`` times (less noise than multinomial draws), and
    never when its weight is zero.
    """
    weights = normalized_weights(log_w)
    cumulative = np.cumsum(weights)
    cumulative[-1] = 1.0
    points = (rng.random() + np.arange(m)) / m
    # Points beyond the rounded sum of the weights (or rounded up to 1) go to the last
    # sample with weight, not to trailing samples of zero weight.
    last = np.flatnonzero(weights)[-1]
    return np.minimum(np.searchsorted(cumulative, points, side="right"), last)


@dataclass(frozen=True)
class SetUsage:
    """How one sample set entered BAR.

    Attributes:
        n: samples given.
        inefficiency: statistical inefficiency ``g`` (frames) of the reduced work; 1 when
            the samples are independent.
        n_decorrelated: samples left after keeping frames about ``g`` apart.
        residual_inefficiency: statistical inefficiency of the reduced work of those
            frames (1 for independent samples).
        weighted: the set carries unequal importance weights (it was resampled).
        ess: Kish ESS of the decorrelated samples' weights.
        n_used: samples passed to ``pymbar.bar``.
    """

    n: int
    inefficiency: float
    n_decorrelated: int
    residual_inefficiency: float
    weighted: bool
    ess: float
    n_used: int

    def as_dict(self) -> dict:
        """JSON-ready form of every field."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class _Prepared:
    """One set cut to frames about ``g`` apart: their reduced work and log weights."""

    work: np.ndarray
    log_w: np.ndarray
    usage: SetUsage


def _independent_work(
    work: np.ndarray,
    log_w: np.ndarray,
    correlated: bool,
    rng: np.random.Generator,
    label: str,
) -> tuple[np.ndarray, _Prepared]:
    """The reduced work of independent, equally weighted samples, and how it was made."""
    n = work.size
    if n < MIN_BAR_SAMPLES:
        raise TooFewSamplesError(f"{label}: {n} samples, BAR needs at least {MIN_BAR_SAMPLES}")
    g = max(statistical_inefficiency(work), 1.0) if correlated else 1.0
    keep = decorrelated_indices(n, g) if correlated else np.arange(n)
    work, log_w = work[keep], log_w[keep]
    residual = max(statistical_inefficiency(work), 1.0) if correlated else 1.0
    weighted = not np.all(log_w == log_w[0])
    ess = kish_ess(log_w)
    used = work[_resampled(log_w, rng)] if weighted else work
    usage = SetUsage(
        n, float(g), int(keep.size), float(residual), bool(weighted), float(ess), int(used.size)
    )
    if used.size < MIN_BAR_SAMPLES:
        how = f"statistical inefficiency {g:.1f} frames" if correlated else ""
        if weighted:
            how += ("; " if how else "") + f"Kish ESS {ess:.1f} of the weights"
        raise TooFewSamplesError(
            f"{label}: {used.size} independent samples of {n} ({how}), "
            f"BAR needs at least {MIN_BAR_SAMPLES}"
        )
    return used, _Prepared(work, log_w, usage)


def _resampled(log_w: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``floor(Kish ESS)`` systematic draws by the normalised weights."""
    return systematic_resample(log_w, int(np.floor(kish_ess(log_w) + 1e-9)), rng)


def _bootstrap_stderr(sets: tuple[_Prepared, _Prepared], rng: np.random.Generator) -> float:
    """Standard deviation of BAR over bootstrap replicates of both weighted or unweighted
    sets (each drawn with replacement, then resampled by weight); replicates where BAR
    fails are left out, and ``nan`` is returned when fewer than half succeed."""
    estimates = []
    for _ in range(BOOTSTRAP_REPLICATES):
        works = []
        for prepared in sets:
            draw = rng.integers(0, prepared.work.size, prepared.work.size)
            work, log_w = prepared.work[draw], prepared.log_w[draw]
            works.append(work[_resampled(log_w, rng)] if prepared.usage.weighted else work)
        if min(work.size for work in works) >= 2:
            replicate = bar_free_energy(*works, min_overlap=0.0).delta_f
            if replicate.trusted:
                estimates.append(replicate.value)
    if len(estimates) < BOOTSTRAP_REPLICATES / 2:
        return math.nan
    return float(np.std(estimates, ddof=1))


def _bar_with_honest_error(
    works: tuple[np.ndarray, np.ndarray],
    sets: tuple[_Prepared, _Prepared],
    kT: float,
    min_overlap: float,
    rng: np.random.Generator,
) -> BarResult:
    """BAR on the independent ``works``, its error widened for the correlation left in cut
    time series and, for weighted sets, replaced by the bootstrap's where larger."""
    bar = bar_free_energy(*works, kT, min_overlap)
    if not bar.delta_f.trusted:
        return bar
    stderr = bar.delta_f.stderr * math.sqrt(
        max(prepared.usage.residual_inefficiency for prepared in sets)
    )
    if any(prepared.usage.weighted for prepared in sets):
        spread = _bootstrap_stderr(sets, rng) * kT
        if not math.isfinite(spread):
            return BarResult(
                untrusted("BAR failed on most bootstrap replicates of the weighted sets"),
                bar.overlap,
            )
        stderr = max(stderr, spread)
    return BarResult(Estimate(bar.delta_f.value, stderr), bar.overlap)


def _negated(estimate: Estimate) -> Estimate:
    if not estimate.trusted:
        return estimate
    return Estimate(-estimate.value, estimate.stderr)


@dataclass(frozen=True)
class TwoSetResult:
    """``ΔF_BC = F_C − F_B`` by BAR and by one-sided FEP from each side.

    Attributes:
        bar: BAR estimate with the pymbar overlap scalar.
        fep_forward: FEP from the samples of ``B`` (``delta_f`` is ``F_C − F_B``).
        fep_reverse: FEP from the samples of ``C`` (``delta_f`` is ``F_B − F_C``, as
            computed; :attr:`reverse_delta_f` is it negated).
        set_b, set_c: how each set entered BAR.
        kT: the unit of every ``ΔF`` (1: units of kT).
    """

    bar: BarResult
    fep_forward: PerturbationResult
    fep_reverse: PerturbationResult
    set_b: SetUsage
    set_c: SetUsage
    kT: float = 1.0

    @property
    def reverse_delta_f(self) -> Estimate:
        """``F_C − F_B`` from the reverse FEP."""
        return _negated(self.fep_reverse.delta_f)

    def estimates(self) -> dict[str, Estimate]:
        """``{"bar", "fep_forward", "fep_reverse"}``, each ``F_C − F_B``."""
        return {
            "bar": self.bar.delta_f,
            "fep_forward": self.fep_forward.delta_f,
            "fep_reverse": self.reverse_delta_f,
        }

    def comparisons(self) -> dict[str, dict]:
        """``{"a-b": comparison_entry}`` of each pair of trusted estimates (``a − b``)."""
        estimates = self.estimates()
        names = list(estimates)
        table = {}
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                a, b = estimates[first], estimates[second]
                if a.trusted and b.trusted:
                    table[f"{first}-{second}"] = comparison_entry(
                        a.value, a.stderr, b.value, b.stderr
                    )
        return table

    @property
    def consistent(self) -> bool | None:
        """Whether every compared pair agrees within 2 combined standard errors
        (``None`` when fewer than two estimates are given)."""
        table = self.comparisons()
        return None if not table else all(entry["within_2_sem"] for entry in table.values())

    def as_dict(self) -> dict:
        """JSON-ready ``{"delta_f", "overlap", "fep_forward", "fep_reverse", "set_b",
        "set_c", "comparisons", "consistent"}``; free energies as ``{"value_kT",
        "sem_kT", "trusted"}``, all ``F_C − F_B``."""

        def fep(result: PerturbationResult, delta_f: Estimate) -> dict:
            return {
                "delta_f": free_energy_entry(delta_f, self.kT),
                "n": result.n,
                "ess": result.ess,
                "ess_perturbed": result.ess_perturbed,
                "overlap": result.overlap,
            }

        return {
            "delta_f": free_energy_entry(self.bar.delta_f, self.kT),
            "overlap": self.bar.overlap,
            "fep_forward": fep(self.fep_forward, self.fep_forward.delta_f),
            "fep_reverse": fep(self.fep_reverse, self.reverse_delta_f),
            "set_b": self.set_b.as_dict(),
            "set_c": self.set_c.as_dict(),
            "comparisons": self.comparisons(),
            "consistent": self.consistent,
        }


def two_set_free_energy(
    forward: np.ndarray,
    reverse: np.ndarray,
    log_w_b: np.ndarray | None = None,
    log_w_c: np.ndarray | None = None,
    correlated: bool | tuple[bool, bool] = False,
    kT: float = 1.0,
    threshold: EssThreshold = DEFAULT_THRESHOLD,
    min_overlap: float = DEFAULT_MIN_OVERLAP,
    seed: int = 0,
    labels: tuple[str, str] = ("samples of B", "samples of C"),
) -> TwoSetResult:
    """``ΔF_BC`` by BAR on independent samples, with FEP forward and reverse.

    Arguments:
        forward: ``β(U_C − U_B)`` ``(n_B,)`` on the samples of ``B`` (in sample order).
        reverse: ``β(U_B − U_C)`` ``(n_C,)`` on the samples of ``C``.
        log_w_b, log_w_c: unnormalised log importance weights of each set for its own
            distribution; ``None`` for samples of the distribution itself.
        correlated: whether the sets are time series (MD / PT frames) to decorrelate:
            one flag for both, or ``(B, C)``.
        kT: thermal energy in the unit wanted for ``ΔF`` (1: units of kT).
        threshold: least ESS at which the FEP estimates are given.
        min_overlap: least pymbar overlap scalar at which BAR is given.
        seed: seed of the resampling of weighted sets.
        labels: names of the two sets in error messages.

    Raises:
        TooFewSamplesError: fewer than :data:`MIN_BAR_SAMPLES` independent samples in a set.
        ConfigError: NaN or infinite reduced work.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x_b, x_c = rng.normal(0, 1, 2000), rng.normal(0, 1.2, 2000)
        >>> du = 1 / 1.2**2 - 1  # β(U_C − U_B) = du x² / 2 for widths 1 and 1.2
        >>> result = two_set_free_energy(du * x_b**2 / 2, -du * x_c**2 / 2)
        >>> bool(abs(result.bar.delta_f.value + np.log(1.2)) < 3 * result.bar.delta_f.stderr)
        True
    """
    forward = np.asarray(forward, dtype=np.float64).reshape(-1)
    reverse = np.asarray(reverse, dtype=np.float64).reshape(-1)
    log_w_b = as_log_weights(log_w_b, forward.size, "log_w of B")
    log_w_c = as_log_weights(log_w_c, reverse.size, "log_w of C")
    forward, reverse = (
        _work_of_weighted_samples(name, work, log_w)
        for name, work, log_w in (("forward", forward, log_w_b), ("reverse", reverse, log_w_c))
    )
    correlated_b, correlated_c = (
        (correlated, correlated) if isinstance(correlated, bool) else correlated
    )
    rng = np.random.default_rng(seed)
    work_b, set_b = _independent_work(forward, log_w_b, correlated_b, rng, labels[0])
    work_c, set_c = _independent_work(reverse, log_w_c, correlated_c, rng, labels[1])
    bar = _bar_with_honest_error((work_b, work_c), (set_b, set_c), kT, min_overlap, rng)
    options = {"kT": kT, "threshold": threshold}
    fep_forward = free_energy_perturbation(forward, log_w_b, correlated=correlated_b, **options)
    fep_reverse = free_energy_perturbation(reverse, log_w_c, correlated=correlated_c, **options)
    return TwoSetResult(bar, fep_forward, fep_reverse, set_b.usage, set_c.usage, kT)


def _work_of_weighted_samples(name: str, work: np.ndarray, log_w: np.ndarray) -> np.ndarray:
    """``work`` ``(n,)`` with the entries of samples of zero weight set to 0 (they may be
    NaN: an overflowed sample's energy); refuse a non-finite work of weight."""
    weightless = np.isneginf(log_w)
    if not np.isfinite(work[~weightless]).all():
        raise ConfigError(f"{name} reduced work: NaN or infinite values")
    return np.where(weightless, 0.0, work)
