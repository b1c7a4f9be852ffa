"""Estimators with error bars from weighted or plain samples: importance sampling
(thesis eq 9), effective sample size, ``log Z_B`` (thesis fn 73), state populations and
free energies, free-energy perturbation (thesis eq 51), BAR/MBAR (pymbar), BAR between two
sample sets with FEP cross-checks, and the force-field reweighting workflow.

Every estimator works on plain arrays (log weights, reduced energies, labels) and returns
an :class:`Estimate` (value, standard error), which withholds its value
(``trusted=False``, with a reason) when the effective sample size or the overlap is too
poor; see :mod:`molgen.estimate.ess` for the default threshold.
"""

from molgen.estimate.bennett import (
    DEFAULT_MIN_OVERLAP,
    BarResult,
    MbarResult,
    bar_free_energy,
    mbar_free_energies,
)
from molgen.estimate.context import SampleContext, prepare_samples
from molgen.estimate.energies import reduced_energies
from molgen.estimate.ess import (
    DEFAULT_THRESHOLD,
    EssThreshold,
    effective_sample_size,
    ess_fraction,
    kish_ess,
    series_inefficiency,
)
from molgen.estimate.forcefield import VariantPrediction, predict_variant
from molgen.estimate.importance import importance_expectation
from molgen.estimate.logspace import log_mean_exp, normalized_weights
from molgen.estimate.partition import LogPartitionEstimate, log_partition_function
from molgen.estimate.perturbation import PerturbationResult, free_energy_perturbation
from molgen.estimate.report import comparison_entry, free_energy_entry, population_entry
from molgen.estimate.result import Estimate, untrusted
from molgen.estimate.samples import SampleSet, find_sidecar, load_samples
from molgen.estimate.states import (
    MIN_STATE_ESS,
    group_states,
    state_free_energies,
    state_free_energy,
    state_index,
    state_indicators,
    state_populations,
)
from molgen.estimate.two_sets import (
    MIN_BAR_SAMPLES,
    SetUsage,
    TwoSetResult,
    systematic_resample,
    two_set_free_energy,
)
from molgen.estimate.variant_workflow import bar_to_parameters, reweight_to_parameters

__all__ = [
    "DEFAULT_MIN_OVERLAP",
    "DEFAULT_THRESHOLD",
    "MIN_BAR_SAMPLES",
    "MIN_STATE_ESS",
    "BarResult",
    "Estimate",
    "EssThreshold",
    "LogPartitionEstimate",
    "MbarResult",
    "PerturbationResult",
    "SampleContext",
    "SampleSet",
    "SetUsage",
    "TwoSetResult",
    "VariantPrediction",
    "bar_free_energy",
    "bar_to_parameters",
    "comparison_entry",
    "effective_sample_size",
    "ess_fraction",
    "find_sidecar",
    "free_energy_entry",
    "free_energy_perturbation",
    "group_states",
    "importance_expectation",
    "kish_ess",
    "load_samples",
    "log_mean_exp",
    "log_partition_function",
    "mbar_free_energies",
    "normalized_weights",
    "population_entry",
    "predict_variant",
    "prepare_samples",
    "reduced_energies",
    "reweight_to_parameters",
    "series_inefficiency",
    "state_free_energies",
    "state_free_energy",
    "state_index",
    "state_indicators",
    "state_populations",
    "systematic_resample",
    "two_set_free_energy",
    "untrusted",
]
