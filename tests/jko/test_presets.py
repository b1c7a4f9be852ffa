"""The double-well, butane and one-dimensional OU presets: oracles and reference wired into
metrics.json."""

import json
import math

import pytest
import torch

import systems
from molgen.jko import mass_above, normal_quantiles, quantile_jko_steps
from molgen.jko.config import config_from_dict
from molgen.jko.run import run_experiment

TINY_FLOW = {"steps": 1, "iterations": 3, "batch_size": 64, "cloud_size": 256}


def _tiny_double_well(tmp_path, dim, samples, step_size, particles, **problem) -> dict:
    """Summary of a one-step double-well run with an 8x8 network and a coarse baseline."""
    config = config_from_dict(
        {
            "preset": "double_well",
            "dim": dim,
            "evaluation_samples": samples,
            "network": {"hidden": [8, 8]},
            "flow": {"step_size": step_size, **TINY_FLOW},
            "problem": problem,
            "baseline": {"particles": particles, "time_step": 0.01},
        }
    )
    return run_experiment(config, tmp_path, progress=False)


def test_double_well_reports_quadrature_fokker_planck_and_discrete_jko_fractions(tmp_path):
    from systems.double_well import bimodal_energy, minor_mode_fraction

    summary = _tiny_double_well(tmp_path, dim=12, samples=2000, step_size=0.5, particles=500)
    metrics = summary["metrics"]["0.5"]
    assert metrics["minor_mode_fraction_quadrature"] == minor_mode_fraction(1.0)
    # From N(0, 16 I) (the default initial_std) half the mass starts on the minor side and
    # leaves it slowly: the exact Fokker-Planck fraction at t = 0.5 lies between the
    # Boltzmann value and 0.5.
    assert 0.3 < metrics["minor_mode_fraction_fokker_planck"] < 0.5
    # One exact JKO step of h = 0.5 from the start's x0 marginal N(0, 4^2) on 4000
    # quantiles (the oracle, checked against Fokker-Planck in test_quantile_jko.py)
    # crosses the barrier faster than the continuous flow.
    discrete = metrics["minor_mode_fraction_discrete_jko"]
    one_step = quantile_jko_steps(bimodal_energy, normal_quantiles(4000, std=4.0), 0.5, 1)
    assert discrete == mass_above(one_step[-1], 0.0)
    assert discrete < metrics["minor_mode_fraction_fokker_planck"]
    assert summary["euler_maruyama"]["metrics"]["0.5"]["minor_mode_fraction_discrete_jko"] == (
        discrete
    )
    # One barely trained step leaves the start's 0.5 up to sampling error (sem ~ 0.011).
    assert metrics["minor_mode_fraction"] == pytest.approx(0.5, abs=0.06)
    assert metrics["minor_mode_fraction_sem"] == pytest.approx(0.0112, abs=2e-3)
    assert summary["euler_maruyama"]["metrics"]["0.5"]["minor_mode_fraction"] > 0.3
    # metrics.json is strict JSON: a non-finite number (SymKL of samples off the grid) is null
    written = {
        key: None if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in metrics.items()
    }
    assert json.loads((tmp_path / "metrics.json").read_text())["metrics"]["0.5"] == written


def _butane_reference(tmp_path, populations: dict[str, float]):
    """A `molgen reference`-style folder at 300 K with the given populations (sem 0.03)
    and a mean energy of 64 kJ/mol."""
    reference = tmp_path / "reference"
    reference.mkdir()
    stats = {
        "temperature": 300.0,
        "energy": {"mean": 64.0, "sem": 1.0},
        "populations": {name: {"mean": p, "sem": 0.03} for name, p in populations.items()},
    }
    (reference / "stats.json").write_text(json.dumps(stats))
    return reference


def _butane_config(reference, samples: int, flow: dict, **extra):
    """A butane run with a tiny network, started 0.003 nm around the minimum."""
    return config_from_dict(
        {
            "preset": "butane",
            "dim": 42,
            "evaluation_samples": samples,
            "network": {"hidden": [8, 8]},
            "flow": flow,
            "problem": {"initial_std": 0.003, "reference": str(reference)},
            **extra,
        }
    )


def test_butane_reports_dihedral_populations_next_to_the_reference(tmp_path):
    populations = {"gauche+": 0.2, "trans": 0.6, "gauche-": 0.2}
    reference = _butane_reference(tmp_path, populations)
    # A vanishing learning rate keeps the map at the identity: the samples are the start,
    # N(minimised structure, (0.003 nm)^2 I).
    config = _butane_config(reference, 400, {"step_size": 0.2, **TINY_FLOW, "learning_rate": 1e-7})
    metrics = run_experiment(config, tmp_path / "run", progress=False)["metrics"]["0.2"]
    assert metrics["reference_populations"] == populations
    assert metrics["reference_energy_mean"] == 64.0
    assert metrics["populations"] == {"gauche+": 0.0, "trans": 1.0, "gauche-": 0.0}
    system = systems.load("butane")
    start = torch.as_tensor(system.positions) - torch.as_tensor(system.positions).mean(0)
    energies = system.energy()(start + 0.003 * torch.randn(4000, 14, 3, dtype=torch.float64))
    # Exact (unclipped) energy of the start: the medians of 400 and 4000 samples differ by
    # ~1 kJ/mol (energy spread ~15 kJ/mol); 5 kJ/mol is 5 standard errors, while the
    # minimum itself is 40 kJ/mol lower.
    assert metrics["energy_median"] == pytest.approx(energies.median().item(), abs=5.0)


def test_butane_euler_maruyama_particles_report_populations_and_energy(tmp_path):
    populations = {"gauche+": 0.2, "trans": 0.6, "gauche-": 0.2}
    reference = _butane_reference(tmp_path, populations)
    # t = 0.002 nm²: 400 Euler-Maruyama steps of 5e-6 (stable for the C-H bonds, whose
    # drift stiffness is ~2e5 nm⁻²), far too short to leave the trans well.
    config = _butane_config(
        reference,
        64,
        {"step_size": 0.002, **TINY_FLOW},
        baseline={"particles": 64, "time_step": 5e-6},
    )
    summary = run_experiment(config, tmp_path / "run", progress=False)
    flow_metrics = summary["metrics"]["0.002"]
    metrics = summary["euler_maruyama"]["metrics"]["0.002"]
    assert set(metrics) == set(flow_metrics)
    assert metrics["populations"] == {"gauche+": 0.0, "trans": 1.0, "gauche-": 0.0}
    assert metrics["population_sem"] == {"gauche+": 0.0, "trans": 0.0, "gauche-": 0.0}
    assert metrics["reference_populations"] == populations
    # Bonds and angles have thermalised without blowing up (dt = 1e-5 gives ~1e4 kJ/mol).
    # At dt = 5e-6 Euler-Maruyama overheats the C-H stretches: ~96 kJ/mol against ~63 for
    # dt -> 0 (the start, N(minimum, (0.003 nm)^2 I), is at ~58).
    assert 40.0 < metrics["energy_median"] < metrics["energy_mean"] + 10.0 < 200.0
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["euler_maruyama"]["metrics"]["0.002"] == metrics


def test_butane_refuses_a_reference_at_another_temperature(tmp_path):
    from molgen.jko.config import JKOConfigError

    reference = tmp_path / "reference"
    reference.mkdir()
    stats = {"temperature": 400.0, "populations": {"trans": {"mean": 1.0, "sem": 0.0}}}
    (reference / "stats.json").write_text(json.dumps(stats))
    config = config_from_dict(
        {
            "preset": "butane",
            "dim": 42,
            "problem": {"initial_std": 0.003, "reference": str(reference)},
        }
    )
    with pytest.raises(JKOConfigError, match="400"):
        run_experiment(config, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_ou_preset_evaluates_flow_and_particles_in_one_dimension(tmp_path):
    config = config_from_dict(
        {
            "preset": "ou",
            "dim": 1,
            "evaluation_samples": 2000,
            "network": {"hidden": [8, 8]},
            "flow": TINY_FLOW,
            "baseline": {"particles": 2000, "time_step": 0.01},
        }
    )
    summary = run_experiment(config, tmp_path, progress=False)
    flow_metrics = summary["metrics"]["0.05"]
    particle_metrics = summary["euler_maruyama"]["metrics"]["0.05"]
    for metrics in (flow_metrics, particle_metrics):
        assert all(math.isfinite(value) for value in metrics.values())
        # A SymKL between Gaussians is non-negative.
        assert metrics["symkl_gaussian_fit"] >= 0
    # A Gaussian fitted to n = 2000 exact draws has SymKL ~ chi2_2 / n (mean 1e-3, sd 1e-3);
    # Euler-Maruyama with dt = 0.01 adds a bias O(dt) in the variance, ~1e-4 in SymKL at
    # t = 0.05. 0.02 is ~19 standard deviations out.
    assert particle_metrics["symkl_gaussian_fit"] < 0.02


def test_separable_well_law_matches_the_ou_oracle_and_its_start():
    import numpy as np
    from scipy import stats

    from molgen.jko.distributions import Gaussian
    from molgen.jko.ou_oracles import QuadraticPotential, ou_marginal
    from molgen.jko.presets import SeparableWellLaw

    sigma, start_std, temperature, dim = 1.5, 3.0, 0.7, 4
    grid = np.linspace(-20.0, 20.0, 4001)
    start = stats.norm.pdf(grid, scale=start_std)
    law = SeparableWellLaw(grid, lambda time: start, sigma, start_std, temperature, dim)
    # The Gaussian coordinates follow the OU process of V = x^2 / (2 sigma^2) at T.
    one = {"dtype": torch.float64}
    potential = QuadraticPotential(torch.eye(1, **one) / sigma**2, torch.zeros(1, **one))
    initial = Gaussian(torch.zeros(1, **one), start_std**2 * torch.eye(1, **one))
    for time in (0.0, 0.3, 2.0, 50.0):
        exact = ou_marginal(potential, initial, time, temperature).covariance[0, 0].item()
        assert law.variance(time) == pytest.approx(exact, rel=1e-12)
    # With x0's density frozen at the start, the law at t = 0 is N(0, s^2 I): log-densities
    # agree up to the grid's linear interpolation (spacing 0.01: relative error ~1e-6).
    torch.manual_seed(0)
    points = law.sample(20000, 0.0)
    normal = torch.distributions.Normal(0.0, start_std)
    expected = normal.log_prob(points).sum(1)
    assert torch.allclose(law.log_prob(points, 0.0), expected, rtol=0, atol=1e-4)
    # Samples have the law's moments (standard error of a variance estimate: 1 % here).
    assert points.var(0).numpy() == pytest.approx(np.full(dim, start_std**2), rel=0.04)
    assert law.log_prob(torch.tensor([[25.0, 0.0, 0.0, 0.0]]), 0.0).item() == -math.inf


def test_double_well_reports_symkl_to_the_exact_fokker_planck_law(tmp_path):
    summary = _tiny_double_well(
        tmp_path, dim=3, samples=1000, step_size=0.05, particles=100, initial_std=0.5
    )
    # The start N(0, 0.25 I) lies well inside the oracle's x0 grid (|x0| < 3.3, where
    # u / T >= 100): beyond it the oracle density is 0 and the SymKL infinite. Three updates
    # leave the map near the identity, so the JKO law is near the start, while the exact law
    # has moved: each Gaussian coordinate's variance from 0.25 to 1 - 0.75 e^-0.1 = 0.321,
    # a SymKL of 0.5 (r + 1/r - 2) = 0.031 each (r = 1.28), 0.06 for the two, plus x0's part.
    symkl = summary["symkl"]["0.05"]
    assert 0.03 < symkl < 1.0
    assert json.loads((tmp_path / "metrics.json").read_text())["symkl"] == summary["symkl"]


@pytest.mark.parametrize("backend", ["stochastic", "variational"])
def test_porous_medium_refuses_an_estimated_log_determinant(backend):
    """The porous energy is nonlinear in the log-determinant, so a noisy estimate of it
    biases value and gradient (Jensen); only the exact backend is accepted."""
    from molgen.jko.config import JKOConfigError

    with pytest.raises(JKOConfigError, match=rf"^logdet.backend: .*exact backend \({backend}"):
        config_from_dict({"preset": "porous", "dim": 1, "logdet": {"backend": backend}})


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"logdet": {"backend": "variational"}}, r"^logdet.backend: the aggregation preset"),
        ({"logdet": {"probes": 7}}, r"^logdet.probes: the aggregation preset has no internal"),
        ({"evaluation_samples": 1}, r"^evaluation_samples: .* at least 2, got 1"),
    ],
)
def test_aggregation_refuses_settings_it_cannot_use(settings, message):
    """Used to be accepted: the log-determinant settings silently ignored, one evaluation
    sample a traceback after the training had run."""
    from molgen.jko.config import JKOConfigError

    with pytest.raises(JKOConfigError, match=message):
        config_from_dict({"preset": "aggregation", "dim": 1, **settings})
