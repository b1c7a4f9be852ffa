"""The report of ``molgen free-energy``: a JSON-ready dict and its text table.

Keys: ``samples, system, temperature`` (K; toys: the temperature factor), ``energy_unit,
kT`` (energy unit per kT), ``n, ess, ess_fraction, ess_required, log_z``,
``populations`` (``{state: {"mean", "sem", "trusted"}}``), ``free_energies``
(``{"a->b": {"value_kT", "sem_kT", "trusted"}}``, ``F_b − F_a``), ``perturbation`` (when
asked: ``psf, prm, delta_f`` = ``F_C − F_B`` in kT, ``ess_perturbed,
pareto_k_perturbed`` (the Pareto k̂ of the weights times ``exp(−Δu)``), ``overlap,
populations_variant, free_energies_variant``), ``bar`` (with samples of ``C`` too:
``samples_c, n_c``, BAR ``delta_f`` = ``F_C − F_B`` in kT with the pymbar ``overlap``,
``fep_forward`` and ``fep_reverse`` (both ``F_C − F_B``), ``set_b`` and ``set_c`` (how
each set entered BAR), ``comparisons`` and ``consistent``; see
:mod:`molgen.estimate.two_sets`) and ``trusted`` (false when any requested estimate is
withheld; with ``bar``, the BAR value and any requested state free energies count, a
one-sided FEP refusal does not; with nothing requested, every population and free energy
of the system's modes shown, and log Z unless the frames are equally weighted, whose log
Z is withheld).

``ess`` is the Kish ESS of the weights; with ``correlated`` it is divided by the largest
statistical inefficiency of the weights and the state indicators, and ``log_z`` and the
populations are refused by that same number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from forcefields.errors import ConfigError
from molgen.estimate.context import SampleContext, prepare_samples
from molgen.estimate.ess import EssThreshold
from molgen.estimate.partition import EQUAL_WEIGHTS
from molgen.estimate.report import free_energy_entry, population_entry
from molgen.estimate.samples import system_temperature
from molgen.estimate.states import (
    group_states,
    state_free_energies,
    state_indicators,
    state_populations,
)
from molgen.estimate.tail import pareto_tail_index, tail_warning
from molgen.estimate.variant_workflow import bar_to_parameters, reweight_to_parameters
from molgen.estimate.weight_summary import weight_summary

__all__ = ["free_energy_report", "format_report"]

REFUSED = "an estimate was withheld: too few effective samples or too little overlap"


def _state_labels(
    context: SampleContext, states: Sequence[str] | None, groups: dict[str, Sequence[str]]
) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """The (grouped) state labels ``(n,)`` and names, or ``(None, ())`` without labels."""
    if context.labels is None or not context.mode_names:
        if states:
            context.require_labels()
        return None, ()
    if groups:
        return group_states(context.labels, context.mode_names, groups)
    return context.labels, context.mode_names


def _state_tables(
    labels: np.ndarray | None,
    names: tuple[str, ...],
    log_w: np.ndarray,
    states: Sequence[str] | None,
    correlated: bool,
    threshold: EssThreshold,
) -> tuple[dict, dict]:
    if labels is None:
        return {}, {}
    options = {"log_w": log_w, "correlated": correlated, "threshold": threshold}
    populations = state_populations(labels, names, **options)
    free_energies = state_free_energies(labels, names, 1.0, states=states, **options)
    return (
        {name: population_entry(value) for name, value in populations.items()},
        {name: free_energy_entry(value) for name, value in free_energies.items()},
    )


def free_energy_report(
    samples: Path | str,
    system_name: str | None = None,
    temperature: float | None = None,
    topology: Path | None = None,
    states: Sequence[str] | None = None,
    groups: dict[str, Sequence[str]] | None = None,
    perturbation: tuple[Path, Sequence[Path]] | None = None,
    bar_samples: Path | str | None = None,
    correlated: bool = False,
    bar_correlated: bool | None = None,
    min_ess: float = 50.0,
    min_ess_fraction: float = 0.01,
    batch_size: int = 4096,
    seed: int = 0,
) -> dict:
    """Estimate everything ``molgen free-energy`` reports (see the module docstring).

    Arguments:
        samples: sidecar ``.npz``, trajectory or run directory.
        system_name, temperature, topology: see :func:`~molgen.estimate.context.prepare_samples`.
        states: states whose pairwise ``ΔF`` is reported (default: all).
        groups: merged states (see :func:`~molgen.estimate.states.group_states`).
        perturbation: ``(psf, [prm, ...])`` of ``U_C``, or ``None``.
        bar_samples: samples of ``p_C`` (needs ``perturbation``) for BAR; read like
            ``samples``, with the same system, temperature and topology.
        correlated: the samples are a time series.
        bar_correlated: ``bar_samples`` are a time series (default: as ``correlated``).
        min_ess, min_ess_fraction: the :class:`~molgen.estimate.ess.EssThreshold`.
        batch_size: frames per energy evaluation.
        seed: seed of the ``log Z`` bootstrap and of the resampling of weighted sets for BAR.

    Raises:
        ConfigError: ``bar_samples`` without ``perturbation``.
    """
    if bar_samples is not None and perturbation is None:
        raise ConfigError(
            "--bar needs the parameters of C: --perturb PSF --prm PRM or --perturb-system NAME"
        )
    groups = dict(groups or {})
    threshold = EssThreshold(min_ess, min_ess_fraction)
    context = prepare_samples(samples, system_name, temperature, topology)
    log_w = context.samples.log_w
    labels, names = _state_labels(context, states, groups)
    populations, free_energies = _state_tables(labels, names, log_w, states, correlated, threshold)
    # For a time series, log Z and the reported ESS count the state indicators'
    # correlation too (the energy's without states), as the populations do, so that they
    # are refused together.
    indicators = None if labels is None else state_indicators(labels, len(names))
    report = {
        "samples": str(context.samples.sidecar),
        "system": None if context.system is None else context.system.name,
        "temperature": None if context.system is None else system_temperature(context.system),
        "energy_unit": context.energy_unit,
        "kT": 1.0 / context.beta,
        "n": context.samples.n,
        **weight_summary(
            log_w, threshold, seed, correlated, context.correlation_series(indicators)
        ),
        "populations": populations,
        "free_energies": free_energies,
    }
    requested = [entry["trusted"] for entry in free_energies.values()] if states else []
    if not states and perturbation is None:
        requested += _default_result(report)
    if perturbation is not None:
        psf, prm = perturbation
        prediction, energies = reweight_to_parameters(
            context, psf, prm, states, groups, correlated, threshold, batch_size
        )
        result = prediction.perturbation
        variant = {
            "psf": str(psf),
            "prm": [str(p) for p in prm],
            "delta_f": free_energy_entry(result.delta_f),
            "ess_perturbed": result.ess_perturbed,
            "pareto_k_perturbed": pareto_tail_index(
                log_w - (energies["u_variant"] - energies["u_default"])
            ),
            "overlap": result.overlap,
            "populations_variant": {
                name: population_entry(value)
                for name, value in prediction.populations_variant.items()
            },
            "free_energies_variant": {
                name: free_energy_entry(value)
                for name, value in prediction.free_energies_variant.items()
            },
        }
        report["perturbation"] = variant
        if bar_samples is None:
            requested.append(prediction.trusted)
        else:
            name = system_name or context.samples.system
            context_c = prepare_samples(
                bar_samples, name, temperature, topology, check_system=False
            )
            two_sets = bar_to_parameters(
                context,
                context_c,
                psf,
                prm,
                (correlated, correlated if bar_correlated is None else bar_correlated),
                threshold,
                batch_size,
                seed,
                energies,
            )
            report["bar"] = {
                "samples_c": str(context_c.samples.sidecar),
                "n_c": context_c.samples.n,
                **two_sets.as_dict(),
            }
            requested.append(two_sets.bar.delta_f.trusted)
            if states:
                requested += [e.trusted for e in prediction.free_energies_variant.values()]
    report["trusted"] = all(requested)
    return report


def _default_result(report: dict) -> list[bool]:
    """Which estimates decide ``trusted`` when none was asked for: every population and
    state free energy shown (those of the system's modes), and log Z unless the frames are
    equally weighted (which say nothing of Z)."""
    shown = [
        entry["trusted"]
        for table in ("populations", "free_energies")
        for entry in report[table].values()
    ]
    if report["log_z"].get("reason") == EQUAL_WEIGHTS:
        return shown
    return [report["log_z"]["trusted"], *shown]


def _estimate_text(entry: dict, kT: float, unit: str, value_key: str, sem_key: str) -> str:
    if not entry["trusted"]:
        return f"not given: {entry['reason']}"
    text = f"{entry[value_key]:+.3f} ± {entry[sem_key]:.3f}"
    if value_key == "value_kT" and unit == "kJ/mol":
        text += f" kT  ({entry[value_key] * kT:+.3f} ± {entry[sem_key] * kT:.3f} kJ/mol)"
    return text


def _set_text(usage: dict) -> str:
    text = f"{usage['n_used']} of {usage['n']}"
    notes = []
    if usage["inefficiency"] > 1.0:
        notes.append(
            f"decorrelated, g = {usage['inefficiency']:.1f} frames, "
            f"{usage['residual_inefficiency']:.2f} left after it"
        )
    if usage["weighted"]:
        notes.append(f"resampled by weight to the Kish ESS {usage['ess']:.1f}")
    return text + (f" ({'; '.join(notes)})" if notes else "")


def _bar_lines(bar: dict, kT: float, unit: str) -> list[str]:
    """The BAR block: the three ``F_C − F_B`` estimates, how the sets were used, the checks."""
    lines = [f"F_C - F_B with samples of C ({bar['samples_c']}):"]
    rows = {
        "BAR": (bar["delta_f"], f"pymbar overlap {bar['overlap']:.3f}"),
        "FEP forward (from B)": (
            bar["fep_forward"]["delta_f"],
            f"ESS perturbed {bar['fep_forward']['ess_perturbed']:.1f}",
        ),
        "FEP reverse (from C)": (
            bar["fep_reverse"]["delta_f"],
            f"ESS perturbed {bar['fep_reverse']['ess_perturbed']:.1f}",
        ),
    }
    width = max(len(name) for name in rows)
    for name, (entry, note) in rows.items():
        text = _estimate_text(entry, kT, unit, "value_kT", "sem_kT")
        lines.append(f"  {name:<{width}}  {text}" + (f"  [{note}]" if entry["trusted"] else ""))
    lines.append(f"  samples in BAR: B {_set_text(bar['set_b'])}; C {_set_text(bar['set_c'])}")
    for pair, entry in bar["comparisons"].items():
        if not entry["within_2_sem"]:
            scale = (
                "with standard errors of 0"
                if entry["z"] is None
                else f"= {entry['z']:+.1f} combined standard errors"
            )
            lines.append(
                f"  WARNING: {pair.replace('-', ' and ')} disagree: difference "
                f"{entry['difference']:+.3g} kT {scale}"
            )
    if bar["consistent"]:
        lines.append("  the trusted estimates agree within 2 combined standard errors")
    return lines


def format_report(report: dict) -> str:
    """The report as an aligned text table with error bars (± one standard error)."""
    kT, unit = report["kT"], report["energy_unit"]
    lines = [
        f"samples: {report['samples']}  (system {report['system']}, n = {report['n']})",
        f"ESS: {report['ess']:.1f} ({100 * report['ess_fraction']:.2f} %), "
        f"required {report['ess_required']:.1f}",
    ]
    warning = tail_warning(report.get("pareto_k"), report["n"])
    if warning:
        lines.append(f"warning: {warning}")
    log_z = report["log_z"]
    if log_z["trusted"]:
        low, high = (-math.inf if end is None else end for end in log_z["interval"])
        lines.append(
            f"log Z_B: {log_z['value']:.4f} ± {log_z['stderr']:.4f}  "
            f"({100 * log_z['confidence']:.0f} % bootstrap [{low:.4f}, {high:.4f}])"
        )
    else:
        lines.append(f"log Z_B: not given: {log_z['reason']}")

    def table(title: str, entries: dict, value_key: str, sem_key: str) -> None:
        if entries:
            lines.append(title)
            width = max(len(name) for name in entries)
            for name, entry in entries.items():
                text = _estimate_text(entry, kT, unit, value_key, sem_key)
                lines.append(f"  {name:<{width}}  {text}")

    table("populations:", report["populations"], "mean", "sem")
    table("free energies F_b - F_a (a->b):", report["free_energies"], "value_kT", "sem_kT")
    variant = report.get("perturbation")
    if variant is not None:
        lines.append(f"perturbation to {variant['psf']} + {', '.join(variant['prm'])}:")
        delta = _estimate_text(variant["delta_f"], kT, unit, "value_kT", "sem_kT")
        lines.append(f"  F_C - F_B: {delta}")
        lines.append(
            f"  ESS of the perturbed weights: {variant['ess_perturbed']:.1f}; "
            f"overlap coefficient: {variant['overlap']:.3f}"
        )
        warning = tail_warning(variant["pareto_k_perturbed"], report["n"])
        if warning:
            lines.append(f"  warning: perturbed weights: {warning}")
        table("  populations under U_C:", variant["populations_variant"], "mean", "sem")
        table("  free energies under U_C:", variant["free_energies_variant"], "value_kT", "sem_kT")
    if "bar" in report:
        lines += _bar_lines(report["bar"], kT, unit)
    lines.append("result: " + ("trusted" if report["trusted"] else f"refused ({REFUSED})"))
    return "\n".join(lines)
