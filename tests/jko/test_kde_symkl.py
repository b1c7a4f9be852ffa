"""SymKL of a particle cloud's kernel density estimate to a target density."""

import math

import torch
from scipy.stats import gaussian_kde

from molgen.jko import Gaussian, kde_symkl


def test_kde_symkl_measures_the_kde_law_not_its_own_particles():
    torch.manual_seed(0)
    dim, n, points = 8, 10000, 3000
    target = Gaussian.standard(dim, dtype=torch.float64)
    particles = target.sample(n)
    value = kde_symkl(particles, target.sample(points), target.log_prob, points)

    # An independent unbiased estimate of the same SymKL: draws from the KDE's Gaussian
    # mixture made by hand (a random particle plus kernel noise), scipy's log-density.
    kde = gaussian_kde(particles.numpy().T)

    def log_kde(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(kde.logpdf(x.numpy().T))

    kernel = torch.linalg.cholesky(torch.from_numpy(kde.covariance))
    draws = particles[torch.randint(n, (points,))] + torch.randn(points, dim).double() @ kernel.T
    reference = target.sample(points)
    forward = log_kde(draws) - target.log_prob(draws)
    backward = target.log_prob(reference) - log_kde(reference)
    independent = float(forward.mean() + backward.mean())
    standard_error = math.sqrt((forward.var() + backward.var()).item() / points)
    # Two independent estimates with the same standard error: their difference has sd
    # sqrt(2) se (~0.04 here); 5 of them.
    assert abs(value - independent) < 5 * math.sqrt(2) * standard_error

    # Evaluating the KDE at its own particles adds each one's kernel peak to its density:
    # in D = 8 with n = 1e4 that inflates the first term by ~1 nat, ~25 sd.
    own = particles[:points]
    in_sample = float((log_kde(own) - target.log_prob(own)).mean() + backward.mean())
    assert value < in_sample - 10 * math.sqrt(2) * standard_error

    # Lower bound: Scott's factor f = n^(-1/(D+4)) smooths N(0, I) to N(0, (1 + f^2) I) on
    # average over the particles; KL(kde||p) is at least that Gaussian's (moment matching)
    # and E KL(p||kde) at least KL(p||smoothed) (Jensen), so the SymKL is at least
    # D/2 ((1 + f^2) + 1/(1 + f^2) - 2) ~ 0.15. The lumpy KDE of 1e4 points in D = 8 sits
    # well above it (~0.6), so 3 standard errors below the bound cannot be reached by noise.
    smoothed = 1 + n ** (-2 / (dim + 4))
    assert value > dim / 2 * (smoothed + 1 / smoothed - 2) - 3 * standard_error
