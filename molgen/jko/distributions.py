"""Reference densities: Gaussians and Gaussian mixtures."""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["Gaussian", "GaussianMixture"]


class Gaussian:
    r"""Multivariate normal :math:`\mathcal N(\mu, \Sigma)`.

    Arguments:
        mean: :math:`\mu`, shape ``(D,)``.
        covariance: :math:`\Sigma`, symmetric positive definite, shape ``(D, D)``.

    Example:
        >>> g = Gaussian.standard(3)
        >>> g.sample(5).shape, g.log_prob(torch.zeros(1, 3))
        (torch.Size([5, 3]), tensor([-2.7568]))
    """

    def __init__(self, mean: Tensor, covariance: Tensor):
        self.mean = mean
        self.covariance = covariance
        self.cholesky = torch.linalg.cholesky(covariance)

    @classmethod
    def standard(cls, dim: int, dtype: torch.dtype | None = None) -> Gaussian:
        """:math:`\\mathcal N(0, I_D)`."""
        return cls(torch.zeros(dim, dtype=dtype), torch.eye(dim, dtype=dtype))

    @property
    def dim(self) -> int:
        return len(self.mean)

    def sample(self, n: int) -> Tensor:
        """Returns ``n`` samples, shape ``(n, D)``."""
        noise = torch.randn(n, self.dim, dtype=self.mean.dtype, device=self.mean.device)
        return self.mean + noise @ self.cholesky.T

    def log_prob(self, x: Tensor) -> Tensor:
        """Returns log-densities, shape ``(n,)``, for ``x`` of shape ``(n, D)``."""
        centred = torch.linalg.solve_triangular(self.cholesky, (x - self.mean).T, upper=False)
        log_norm = self.cholesky.diagonal().log().sum() + 0.5 * self.dim * math.log(2 * math.pi)
        return -0.5 * centred.square().sum(0) - log_norm


class GaussianMixture:
    r"""Equal-weight mixture :math:`\frac1M\sum_m \mathcal N(\mu_m, \sigma^2 I)`.

    As a Fokker-Planck target at :math:`\beta = 1` its potential is
    :math:`V = -\log\rho` (normalisation :math:`Z = 1`).

    References:
        | Large-Scale Wasserstein Gradient Flows (Mokrov et al., 2021), §4.2

    Arguments:
        means: Component means, shape ``(M, D)``.
        std: Component standard deviation :math:`\sigma`.
    """

    def __init__(self, means: Tensor, std: float = 1.0):
        self.means = means
        self.std = std

    @classmethod
    def random(cls, components: int, dim: int, width: float, std: float = 1.0) -> GaussianMixture:
        """Means drawn uniformly from :math:`[-l/2, l/2]^D` with ``width`` :math:`l`."""
        return cls((torch.rand(components, dim) - 0.5) * width, std)

    def sample(self, n: int) -> Tensor:
        """Returns ``n`` samples, shape ``(n, D)``."""
        component = torch.randint(len(self.means), (n,), device=self.means.device)
        noise = torch.randn(
            n, self.means.shape[1], dtype=self.means.dtype, device=self.means.device
        )
        return self.means[component] + self.std * noise

    def log_prob(self, x: Tensor) -> Tensor:
        """Returns log-densities, shape ``(n,)``."""
        dim = x.shape[-1]
        squared = (x[:, None, :] - self.means).square().sum(-1) / self.std**2
        log_norm = dim * math.log(self.std) + 0.5 * dim * math.log(2 * math.pi)
        return torch.logsumexp(-0.5 * squared, -1) - math.log(len(self.means)) - log_norm

    def potential(self, x: Tensor) -> Tensor:
        """:math:`V(x) = -\\log\\rho(x)`, shape ``(n,)``."""
        return -self.log_prob(x)
