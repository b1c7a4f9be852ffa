"""Distances between a computed density or particle cloud and a reference."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from scipy.stats import gaussian_kde
from torch import Tensor

__all__ = [
    "gaussian_symkl",
    "fitted_gaussian_symkl_expected",
    "symkl_from_log_densities",
    "kde_log_density",
    "kde_symkl",
    "energy_distance",
    "mmd",
]


def gaussian_symkl(mean0: Tensor, cov0: Tensor, mean1: Tensor, cov1: Tensor) -> float:
    r"""Symmetric KL divergence :math:`\mathrm{KL}(p\|q) + \mathrm{KL}(q\|p)` of two Gaussians.

    Equals :math:`\frac12[\mathrm{tr}(\Sigma_1^{-1}\Sigma_0) + \mathrm{tr}(\Sigma_0^{-1}\Sigma_1)
    + \Delta\mu^\top(\Sigma_0^{-1} + \Sigma_1^{-1})\Delta\mu] - D`.
    """
    inv0, inv1 = torch.linalg.inv(cov0), torch.linalg.inv(cov1)
    delta = mean1 - mean0
    traces = torch.trace(inv1 @ cov0) + torch.trace(inv0 @ cov1)
    return float(0.5 * (traces + delta @ (inv0 + inv1) @ delta) - len(mean0))


def fitted_gaussian_symkl_expected(dim: int, samples: int) -> tuple[float, float]:
    r"""Mean and standard deviation of the SymKL between a Gaussian and its own fit.

    Fitting mean and covariance to ``samples`` exact draws of a ``dim``-dimensional
    Gaussian leaves a SymKL to it of :math:`\chi^2_k / n` to leading order in
    :math:`1/n`, with :math:`k = D + D(D+1)/2` fitted parameters: mean :math:`k/n`,
    standard deviation :math:`\sqrt{2k}/n`. This is the floor for a fitted Gaussian of
    learned samples compared with an exact law: sampling error alone reaches it.
    """
    parameters = dim + dim * (dim + 1) / 2
    return parameters / samples, (2 * parameters) ** 0.5 / samples


def symkl_from_log_densities(
    log_p_on_p: Tensor, log_q_on_p: Tensor, log_p_on_q: Tensor, log_q_on_q: Tensor
) -> float:
    r"""Monte Carlo symmetric KL from log-densities of samples of both densities.

    :math:`\mathbb E_p[\log p - \log q] + \mathbb E_q[\log q - \log p]`; each argument is a
    ``(n,)`` tensor of log-densities (``log_a_on_b`` is :math:`\log a` at samples of ``b``).
    """
    return float((log_p_on_p - log_q_on_p).mean() + (log_q_on_q - log_p_on_q).mean())


def _kde_logpdf(kde: gaussian_kde, points: Tensor) -> Tensor:
    """Log-density ``(n,)`` of a fitted ``kde`` at ``points`` ``(n, D)``, on their device."""
    values = np.asarray(kde.logpdf(points.double().cpu().numpy().T))
    return torch.from_numpy(values).to(points.device)


def kde_log_density(particles: Tensor, points: Tensor) -> Tensor:
    """Gaussian kernel density (Scott's bandwidth) of ``particles`` at ``points``, ``(n,)``."""
    return _kde_logpdf(gaussian_kde(particles.double().cpu().numpy().T), points)


def kde_symkl(
    particles: Tensor, reference: Tensor, log_prob: Callable[[Tensor], Tensor], points: int
) -> float:
    r"""Monte Carlo SymKL (nats) between a Gaussian KDE of ``particles`` and a target.

    The protocol of the large-scale WGF particle baselines: one ``scipy.stats.gaussian_kde``
    (Scott's bandwidth) of ``particles`` ``(n, D)``; :math:`\mathrm{KL}(\mathrm{kde}\|p)`
    is averaged over ``points`` draws from the KDE itself and
    :math:`\mathrm{KL}(p\|\mathrm{kde})` over ``reference``, samples of the target ``(m, D)``.
    (Evaluating the KDE at its own particles would add each one's kernel to its density and
    inflate the first term.) The KDE draws are seeded from torch's global CPU generator, so
    a seeded run repeats.

    References:
        | Large-Scale Wasserstein Gradient Flows (Mokrov et al., 2021), code:
          ``src/experiments/_convergence.py``, ``conv_comp_em_mix_gauss_targ_experiment``

    Arguments:
        particles: The cloud, shape ``(n, D)``.
        reference: Samples of the target, shape ``(m, D)``.
        log_prob: Target log-density, ``(k, D) -> (k,)``, called on tensors with the dtype
            and device of ``reference``.
        points: Number of draws from the KDE.
    """
    kde = gaussian_kde(particles.double().cpu().numpy().T)
    seed = int(torch.randint(2**32, (), device="cpu"))
    own = torch.from_numpy(kde.resample(points, seed=seed).T).to(reference)
    return symkl_from_log_densities(
        _kde_logpdf(kde, own).to(own.dtype),
        log_prob(own),
        _kde_logpdf(kde, reference).to(own.dtype),
        log_prob(reference),
    )


def _mean_over_distinct_pairs(matrix: Tensor) -> Tensor:
    """Mean of the off-diagonal entries of a square ``(n, n)`` matrix (``n >= 2``)."""
    n = len(matrix)
    return (matrix.sum() - matrix.diagonal().sum()) / (n * (n - 1))


def _check_two_samples(x: Tensor, y: Tensor) -> None:
    if len(x) < 2 or len(y) < 2:
        raise ValueError(f"two-sample metric: needs at least 2 points each, got {len(x)}, {len(y)}")


def energy_distance(x: Tensor, y: Tensor) -> float:
    r""":math:`2\mathbb E\|X - Y\| - \mathbb E\|X - X'\| - \mathbb E\|Y - Y'\|` between
    samples ``x`` ``(n, D)`` and ``y`` ``(m, D)``, ``n, m >= 2``.

    The within-sample terms average over distinct pairs (U-statistics), so the estimate is
    unbiased: about 0 for two samples of one law, and it can be slightly negative. (With
    the diagonal's zeros included it would be biased up by
    :math:`\mathbb E\|X - X'\|/n + \mathbb E\|Y - Y'\|/m`.)
    """
    _check_two_samples(x, y)
    within = _mean_over_distinct_pairs(torch.cdist(x, x)) + _mean_over_distinct_pairs(
        torch.cdist(y, y)
    )
    return float(2 * torch.cdist(x, y).mean() - within)


def mmd(x: Tensor, y: Tensor, bandwidth: float = 1.0) -> float:
    r"""Squared maximum mean discrepancy with the Gaussian kernel
    :math:`e^{-\|a-b\|^2/(2\ell^2)}` between samples ``x`` ``(n, D)`` and ``y`` ``(m, D)``,
    ``n, m >= 2``: the unbiased estimate (within-sample kernels over distinct pairs), about
    0 for two samples of one law and possibly slightly negative."""
    _check_two_samples(x, y)

    def kernel(a: Tensor, b: Tensor) -> Tensor:
        return torch.exp(-torch.cdist(a, b).square() / (2 * bandwidth**2))

    within = _mean_over_distinct_pairs(kernel(x, x)) + _mean_over_distinct_pairs(kernel(y, y))
    return float(within - 2 * kernel(x, y).mean())
