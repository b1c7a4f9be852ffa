"""``molgen evaluate``: samples against a reference run, as ``report.json`` and PNG plots.

The report holds the ESS, ``log Z_B`` (thesis fn 73), the reweighted mode populations and
state free energies (thesis eq 9) beside the reference's, and for each a comparison
(difference, combined standard error, ``z``, whether ``|z| ≤ 2``). The keys follow the
run contract: ``system, ess, populations {state: {mean, sem}}, reference_populations,
free_energies {name: {value_kT, sem_kT}}``, plus ``reference_free_energies``,
``*_comparison``, ``log_z``, ``plots`` (name → file) and ``skipped_plots`` (name → why).
For dialanine it also holds the fraction of D-alanine samples (``d_fraction``,
``d_fraction_reweighted``) and the fraction with φ > 120° (``phi_above_120_fraction``,
``phi_above_120_fraction_reweighted``, ``reference_phi_above_120_fraction``): these
count as C7ax (φ > 0) but lie in the β/C5 basin across the φ = ±180° seam. For molecules
it holds the reweighted mean energy ``mean_energy`` {mean, sem} in kJ/mol beside the
reference's (``reference_mean_energy``, ``mean_energy_comparison``).

An output folder that holds the report of other samples or another reference, or plots
without a report, is refused before anything is written.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from forcefields.errors import ConfigError, InputFileError
from forcefields.json_input import read_json_object
from molgen.estimate.context import SampleContext, prepare_samples
from molgen.estimate.ess import DEFAULT_THRESHOLD, EssThreshold
from molgen.estimate.importance import importance_expectation
from molgen.estimate.reference import ReferenceData, read_reference
from molgen.estimate.report import comparison_entry, free_energy_entry, population_entry
from molgen.estimate.samples import is_reference_folder, system_temperature
from molgen.estimate.states import state_free_energies, state_indicators, state_populations
from molgen.estimate.weight_summary import weight_summary
from molgen.plots.densities import plot_butane_dihedral, plot_marginal_density, plot_ramachandran
from molgen.plots.energies import plot_energy_histogram, plot_energy_scatter, plot_log_weights
from molgen.plots.populations import plot_populations
from systems.observables.dialanine import SEAM_PHI
from systems.reference.atomic_files import write_json_atomic

__all__ = ["evaluate_samples"]


PLOTS = (
    "ramachandran",
    "dihedral",
    "x0",
    "populations",
    "energy_histogram",
    "log_weights",
    "energy_scatter",
)
"""Every plot an evaluation may draw, each as ``<name>.png``."""


def _refuse_other_output(out: Path, samples: Path, reference: Path) -> None:
    """Refuses ``out`` when its ``report.json`` is not an evaluation of ``samples`` against
    ``reference`` (a rerun may replace it), or it holds plots without a report."""
    path = out / "report.json"
    if path.is_file():
        report = read_json_object(path)
        same = [
            isinstance(report.get(key), str) and Path(report[key]).resolve() == wanted.resolve()
            for key, wanted in (("samples", samples), ("reference", reference))
        ]
        if not all(same):
            raise InputFileError(
                f"{path}: holds the evaluation of {report.get('samples')!r} against "
                f"{report.get('reference')!r}; pass another --out for {samples}"
            )
        return
    plots = [f"{name}.png" for name in PLOTS if (out / f"{name}.png").exists()]
    if plots:
        raise InputFileError(
            f"{out}: holds plots ({', '.join(plots)}) but no report.json; pass another --out"
        )


def _indicators(context: SampleContext) -> np.ndarray | None:
    """The state indicators ``(k, n)`` of the samples' modes (``None`` without modes): what
    the populations average, whose correlation a time series' ESS counts."""
    if context.labels is None or not context.mode_names:
        return None
    return state_indicators(context.labels, len(context.mode_names))


def _energy_section(
    context: SampleContext, reference: ReferenceData, threshold, correlated: bool
) -> dict:
    """The reweighted mean physical energy ⟨U_B⟩ (kJ/mol) of molecular samples beside the
    reference's (``stats.json``'s ``energy``), when both are known."""
    energy = context.samples.arrays.get("energy")
    stats = reference.stats
    if (
        getattr(context.system, "kind", None) != "molecule"
        or energy is None
        or stats.get("energy_unit") != "kJ/mol"
        or not isinstance(stats.get("energy"), dict)
    ):
        return {}
    estimate = importance_expectation(
        np.asarray(energy, dtype=np.float64), context.samples.log_w, threshold, correlated
    )
    mean, sem = (_number(stats["energy"].get(key)) for key in ("mean", "sem"))
    return {
        "mean_energy": population_entry(estimate),
        "reference_mean_energy": {"mean": mean, "sem": sem},
        "mean_energy_comparison": comparison_entry(estimate.value, estimate.stderr, mean, sem),
    }


def _state_section(
    context: SampleContext, reference: ReferenceData, threshold, correlated: bool
) -> dict:
    names = context.mode_names
    if context.labels is None or not names:
        return {"populations": {}, "free_energies": {}}
    options = {"log_w": context.samples.log_w, "threshold": threshold, "correlated": correlated}
    populations = state_populations(context.labels, names, **options)
    free_energies = state_free_energies(context.labels, names, 1.0, **options)
    section = {
        "populations": {name: population_entry(p) for name, p in populations.items()},
        "population_comparison": {
            name: comparison_entry(p.value, p.stderr, *reference.populations[name])
            for name, p in populations.items()
            if name in reference.populations
        },
        "free_energies": {name: free_energy_entry(f) for name, f in free_energies.items()},
        "free_energy_comparison": {
            name: comparison_entry(f.value, f.stderr, *reference.free_energies_kT[name])
            for name, f in free_energies.items()
            if name in reference.free_energies_kT
        },
    }
    return section


def _number(value: float | None) -> float:
    return np.nan if value is None else value


def _observable(context: SampleContext, name: str) -> np.ndarray | None:
    if name in context.samples.arrays:
        return np.asarray(context.samples.arrays[name], dtype=np.float64).reshape(-1)
    function = None if context.system is None else context.system.observables.get(name)
    if function is None or context.coordinates is None:
        return None
    return np.asarray(function(context.coordinates), dtype=np.float64).reshape(-1)


def _plots(context: SampleContext, reference: ReferenceData, report: dict, out: Path) -> None:
    frames = reference.equilibrated_frames
    plots, skipped = report["plots"], report["skipped_plots"]
    log_w = context.samples.log_w
    title = "samples (reweighted)"
    # every figure names what it shows: the system, the sample count and the ESS
    heading = f"{report['system'] or 'samples'}: n = {report['n']:,}, ESS {report['ess']:,.1f}"
    if report["ess"] < report["ess_required"]:
        # weights whose estimates are refused must not be drawn as the Boltzmann density
        log_w, title = None, "samples (unweighted)"
        heading += f" < {report['ess_required']:,.1f}: reweighting withheld"
        skipped["reweighted_densities"] = (
            f"too few effective samples (ESS {report['ess']:.1f} < {report['ess_required']:.1f}):"
            " the densities show the samples unweighted"
        )

    def add(name: str, draw, missing: str | None = None) -> None:
        if missing:
            skipped[name] = missing
            return
        try:
            plots[name] = draw(out / f"{name}.png").name
        except (ValueError, IndexError, FloatingPointError) as error:
            # data a plot cannot draw (numpy/matplotlib errors) must not cost the report
            skipped[name] = f"not drawn: {' '.join(str(error).split())}"

    phi, psi = _observable(context, "phi"), _observable(context, "psi")
    if phi is not None and psi is not None:
        add(
            "ramachandran",
            lambda path: plot_ramachandran(
                path, phi, psi, log_w, frames.get("phi"), frames.get("psi"), f"{heading}\n{title}"
            ),
        )
    dihedral = _observable(context, "dihedral")
    if dihedral is not None:
        add(
            "dihedral",
            lambda path: plot_butane_dihedral(
                path, dihedral, log_w, frames.get("dihedral"), heading
            ),
        )
    x0 = _observable(context, "x0")
    if x0 is not None:
        add(
            "x0",
            lambda path: plot_marginal_density(
                path, x0, log_w, frames.get("x0"), "x_0 (reduced units)", heading
            ),
        )
    if not plots:
        skipped["densities"] = "no coordinates or no dihedral observables for these samples"
    populations = report["populations"]
    add(
        "populations",
        lambda path: plot_populations(
            path,
            list(reference.populations),
            {name: (_number(e["mean"]), _number(e["sem"])) for name, e in populations.items()},
            reference.populations,
            heading,
        ),
    )
    u_b = context.samples.u_b
    physical = _reduced_physical_energy(context)
    add(
        "energy_histogram",
        lambda path: plot_energy_histogram(
            path, physical, log_w, frames.get("reduced_potential"), heading
        ),
        None if physical is not None else "the samples have no 'u_b' or 'energy'",
    )
    add(
        "log_weights",
        lambda path: plot_log_weights(path, context.samples.log_w, report.get("pareto_k")),
    )
    log_p_g = context.samples.log_p_g
    add(
        "energy_scatter",
        lambda path: plot_energy_scatter(path, u_b, -log_p_g),
        None if u_b is not None and log_p_g is not None else "the samples lack 'u_b' or 'log_p_g'",
    )


def _reduced_physical_energy(context: SampleContext) -> np.ndarray | None:
    """``βU_B`` ``(n,)`` of the samples without any alignment penalty, as the reference's
    ``reduced_potential``: ``β`` times the sidecar's ``energy``, else its ``u_b`` (which
    holds the penalty of an aligned run), else ``None``."""
    energy = context.samples.arrays.get("energy")
    if energy is not None and context.system is not None:
        return context.beta * np.asarray(energy, dtype=np.float64)
    return context.samples.u_b


def _chirality_section(context: SampleContext, threshold: EssThreshold, correlated: bool) -> dict:
    """Fraction of D-alanine samples (dialanine only): raw, and reweighted to p_B.

    A mirror image has the same force-field energy, so nothing keeps a generator on
    L-alanine; D samples are reported rather than hidden. Reweighting treats them as
    any other sample (the energy cannot tell them apart).
    """
    if getattr(context.system, "name", None) != "dialanine" or context.coordinates is None:
        return {}
    import torch

    from molgen.generators.chirality import is_d_residue

    d_residue = is_d_residue(torch.as_tensor(context.coordinates)).numpy().astype(np.float64)
    reweighted = importance_expectation(d_residue, context.samples.log_w, threshold, correlated)
    return {
        "d_fraction": float(d_residue.mean()),
        "d_fraction_reweighted": population_entry(reweighted),
    }


def _seam_section(
    context: SampleContext, reference: ReferenceData, threshold, correlated: bool
) -> dict:
    """Fraction of dialanine samples with φ > 120° (raw, reweighted) and of reference frames.

    These points are labelled C7ax (φ > 0, the thesis's minor mode) but belong to the
    β/C5 basin across the φ = ±180° seam; reported so that a C7ax population can be read
    without them.
    """
    phi = _observable(context, "phi")
    if getattr(context.system, "name", None) != "dialanine" or phi is None:
        return {}
    seam = (_principal_angle(phi) > SEAM_PHI).astype(np.float64)
    reweighted = importance_expectation(seam, context.samples.log_w, threshold, correlated)
    section = {
        "phi_above_120_fraction": float(seam.mean()),
        "phi_above_120_fraction_reweighted": population_entry(reweighted),
    }
    reference_phi = reference.equilibrated_frames.get("phi")
    if reference_phi is not None:
        section["reference_phi_above_120_fraction"] = float(
            np.mean(_principal_angle(reference_phi) > SEAM_PHI)
        )
    return section


def _principal_angle(angle: np.ndarray) -> np.ndarray:
    """Angles ``(n,)`` in radians on any branch (e.g. [0, 2π)) as float64 in (-π, π], the
    branch dialanine's states are defined on (:func:`systems.observables.minor_mode`)."""
    angle = np.asarray(angle, dtype=np.float64)
    wrapped = math.pi - np.remainder(math.pi - angle, 2.0 * math.pi)
    return np.where((angle > -math.pi) & (angle <= math.pi), angle, wrapped)


def _check_same_system(context: SampleContext, reference: ReferenceData) -> None:
    """Raise :class:`ConfigError` when the reference is of another system than the samples.

    The reference's ``system`` may carry a parameter variant (``butane:lipid``); only the
    system itself must match.
    """
    label = reference.stats.get("system")
    if context.system is None or not isinstance(label, str):
        return
    if label.partition(":")[0] != context.system.name:
        raise ConfigError(
            f"{reference.folder / 'stats.json'}: a reference of {label}, but the samples "
            f"{context.samples.sidecar} are of {context.system.name}"
        )


def _check_same_temperature(context: SampleContext, reference: ReferenceData) -> None:
    """Raise :class:`ConfigError` when the reference was sampled at another temperature
    than the one the samples are analysed at (K; toys: the temperature factor)."""
    recorded = reference.stats.get("temperature")
    if context.system is None or not isinstance(recorded, int | float):
        return
    analysed = system_temperature(context.system)
    if not math.isclose(float(recorded), analysed, rel_tol=1e-6):
        raise ConfigError(
            f"{reference.folder / 'stats.json'}: a reference at temperature {recorded:g}, "
            f"but the samples {context.samples.sidecar} are analysed at {analysed:g}"
        )


def evaluate_samples(
    samples: Path | str,
    reference_dir: Path | str,
    out_dir: Path | str,
    system_name: str | None = None,
    temperature: float | None = None,
    topology: Path | None = None,
    threshold: EssThreshold = DEFAULT_THRESHOLD,
    seed: int = 0,
    correlated: bool = False,
) -> dict:
    """Compare samples with a reference run; write ``report.json`` and plots to ``out_dir``.

    Arguments:
        samples: sidecar ``.npz``, trajectory or run directory of ``molgen sample``.
        reference_dir: folder of ``molgen reference`` (``stats.json``, ``frames.npz``).
        out_dir: where ``report.json`` and the PNG files go.
        system_name, temperature, topology: see :func:`~molgen.estimate.context.prepare_samples`.
        threshold: least ESS at which estimates are given.
        seed: seed of the ``log Z`` bootstrap.
        correlated: the samples are a time series (MD or parallel-tempering frames): the
            ESS and the errors count their statistical inefficiency. Always on for a
            ``molgen reference`` folder.

    Returns:
        The report (see the module docstring).

    Raises:
        ConfigError: the reference is of another system, or was sampled at another
            temperature, than the samples.
        InputFileError: ``out_dir`` holds the report of other samples or another
            reference, or plots without a report.
    """
    out = Path(out_dir)
    reference = read_reference(reference_dir)
    context = prepare_samples(
        samples, system_name, temperature, topology, default_system=reference.stats.get("system")
    )
    _check_same_system(context, reference)
    _check_same_temperature(context, reference)
    _refuse_other_output(out, Path(context.samples.sidecar), reference.folder)
    correlated = correlated or is_reference_folder(samples)
    log_w = context.samples.log_w
    report = {
        "system": None if context.system is None else context.system.name,
        "samples": str(context.samples.sidecar),
        "reference": str(reference.folder),
        "n": context.samples.n,
        **weight_summary(
            log_w, threshold, seed, correlated, context.correlation_series(_indicators(context))
        ),
        "correlated": correlated,
        "reference_populations": {
            name: {"mean": mean, "sem": sem} for name, (mean, sem) in reference.populations.items()
        },
        "reference_free_energies": {
            name: {"value_kT": value, "sem_kT": sem}
            for name, (value, sem) in reference.free_energies_kT.items()
        },
        **_state_section(context, reference, threshold, correlated),
        **_energy_section(context, reference, threshold, correlated),
        **_chirality_section(context, threshold, correlated),
        **_seam_section(context, reference, threshold, correlated),
        "plots": {},
        "skipped_plots": {},
    }
    # The report goes first, without plots, so that a run killed while drawing leaves a
    # folder its rerun recognises as its own; it is written again with the plots.
    write_json_atomic(out / "report.json", report)
    _plots(context, reference, report, out)
    write_json_atomic(out / "report.json", report)
    return report
