"""``problem.mixture_key``: the mixture preset draws the large-scale WGF experiments' own
mixtures, so that runs can be set beside the published value on the same mixture."""

import zlib

import pytest
import torch
import torch.distributions as TD
import yaml

from cli.main import main
from molgen.jko.config import JKOConfigError, config_from_dict
from molgen.jko.distributions import GaussianMixture
from molgen.jko.mixture_tables import keyed_mixture_means
from molgen.jko.run import seeded_problem


def published_route_means(key: str, dim: int, seed: int, components: int) -> torch.Tensor:
    """The means as the published experiments drew them: torch's global generator seeded
    with the CRC-32 of their seed string, then ``Uniform(-5, 5).sample((M, D))``."""
    torch.manual_seed(zlib.crc32(f"{key}@{dim}@{seed}pytorch".encode()))
    return TD.Uniform(-5.0, 5.0).sample((components, dim))


def test_published_key_draws_the_published_experiments_means():
    for seed in range(5):
        ours = keyed_mixture_means("published", 5, 2, 10.0, seed)
        theirs = published_route_means("venus", 2, seed, 5)
        # Same float32 uniforms; (u - 1/2) * 10 and -5 + 10 u differ by float32 rounding only.
        torch.testing.assert_close(ours, theirs, rtol=0, atol=4e-6)


def test_mixture_preset_targets_the_keyed_mixture_in_any_dtype():
    config = config_from_dict(
        {
            "preset": "mixture",
            "dim": 4,
            "seed": 3,
            "dtype": "float64",
            "problem": {"mixture_key": "earth"},
        }
    )
    with seeded_problem(config) as problem:
        points = torch.randn(7, 4)
        drift = problem.drift_gradient(points)
    means = published_route_means("earth", 4, 3, 6).double()
    points = points.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(GaussianMixture(means).potential(points).sum(), points)
    # The float32 draw is kept (only converted), so the targets agree to float32 rounding of
    # the means, amplified by at most the distance to the means (|x - mu| < 10).
    torch.testing.assert_close(drift, expected, rtol=0, atol=1e-4)


def test_seeds_are_different_mixtures_and_the_key_matters():
    first, second = (keyed_mixture_means("published", 7, 6, 10.0, seed) for seed in (0, 1))
    assert not torch.equal(first, second)
    assert not torch.equal(first, keyed_mixture_means("venus", 7, 6, 10.0, 0))


def test_published_key_is_refused_where_the_published_experiments_have_no_mixture():
    with pytest.raises(JKOConfigError, match=r"exist for dim \[2, 4, 6, 8, 10, 12\], not 3"):
        config_from_dict({"preset": "mixture", "dim": 3, "problem": {"mixture_key": "published"}})
    # Their D = 2 mixtures have 5 components in a cube of side 10; others are not theirs.
    for other in ({"components": 3}, {"width": 4.0}):
        with pytest.raises(JKOConfigError, match="5 components in a cube of side 10"):
            config_from_dict(
                {"preset": "mixture", "dim": 2, "problem": {"mixture_key": "published", **other}}
            )
    table = {"components": 5, "width": 10.0}
    config_from_dict(
        {"preset": "mixture", "dim": 2, "problem": {"mixture_key": "published", **table}}
    )


def test_mixture_key_is_refused_for_other_presets():
    with pytest.raises(JKOConfigError, match="problem.mixture_key: the ou preset does not use it"):
        config_from_dict({"preset": "ou", "problem": {"mixture_key": "published"}})


def test_cli_reports_a_published_key_in_a_dimension_without_one(tmp_path, capsys):
    config = tmp_path / "mixture.yaml"
    config.write_text(
        yaml.safe_dump({"preset": "mixture", "dim": 3, "problem": {"mixture_key": "published"}})
    )
    out = tmp_path / "run"
    assert main(["jko", str(config), "--out", str(out), "--quiet"]) == 2
    assert "problem.mixture_key" in capsys.readouterr().err
    assert not out.exists()  # refused before anything is written
