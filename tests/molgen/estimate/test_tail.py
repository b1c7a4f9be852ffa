"""Pareto tail index of importance weights: recovers a known tail shape, is None for
equal weights, and heavy tails are flagged in free-energy's report."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import genpareto, norm

from cli.main import main
from molgen.estimate.tail import PARETO_K_LIMIT, pareto_tail_index, reliability_limit, tail_warning


@pytest.mark.parametrize("shape", [0.3, 0.8])
def test_the_shape_of_generalised_pareto_weights_is_recovered(shape):
    weights = genpareto.rvs(shape, size=20_000, random_state=np.random.default_rng(1))
    # 424 tail weights: the maximum-likelihood shape has a standard error of about
    # (1 + k) / sqrt(424) <= 0.09; 0.2 is more than two of them
    assert pareto_tail_index(np.log(weights)) == pytest.approx(shape, abs=0.2)


def test_weights_of_a_broader_proposal_have_a_light_tail():
    x = np.random.default_rng(2).normal(0.5, 1.2, 5000)
    log_w = -0.5 * x**2 - norm.logpdf(x, 0.5, 1.2)
    # w is bounded (the proposal is wider than the target): a negative shape
    assert pareto_tail_index(log_w) < 0.5


def test_equal_weights_have_no_tail_index():
    assert pareto_tail_index(np.zeros(1000)) is None
    assert tail_warning(None) == ""


def test_free_energy_flags_heavy_tailed_weights(tmp_path, capsys):
    rng = np.random.default_rng(3)
    x = rng.normal(1.0, 0.6, (5000, 2))
    # a proposal narrower than the target N(0, 1): weights of infinite variance
    log_w = (-0.5 * x**2 - norm.logpdf(x, 1.0, 0.6)).sum(axis=1)
    samples = tmp_path / "samples.npz"
    np.savez(samples, log_w=log_w, x=x, system="double_well_2d", temperature=1.0)
    out = tmp_path / "fe.json"
    main(["free-energy", str(samples), "--min-ess", "1", "--json", str(out)])
    report = json.loads(out.read_text())
    assert report["pareto_k"] > PARETO_K_LIMIT
    assert "warning: Pareto k of the weights" in capsys.readouterr().out


def test_the_warning_names_infinite_variance_above_one_half_and_unreliability_above_the_limit():
    assert tail_warning(0.45) == ""
    assert "infinite variance, the error bars are likely too small" in tail_warning(0.6)
    assert "the estimates and their error bars are unreliable" in tail_warning(0.8)


def test_the_limit_of_reliable_estimates_falls_with_the_sample_size():
    # Vehtari et al. (2024): min(1 - 1/log10 n, 0.7): 0.5 for 100 samples, 2/3 for 1,000
    assert reliability_limit(100) == pytest.approx(0.5)
    assert reliability_limit(1000) == pytest.approx(2 / 3)
    assert reliability_limit(10**6) == PARETO_K_LIMIT
    assert "unreliable" in tail_warning(0.68, 1000) and "(the limit for 1000" in tail_warning(
        0.68, 1000
    )
    assert "infinite variance" in tail_warning(0.68, 10**5)
    assert "unreliable" in tail_warning(0.45, 50) and tail_warning(0.45, 5000) == ""
