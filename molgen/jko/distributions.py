"""Reference densities: Gaussians, Gaussian mixtures and the tilted double well."""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import integrate
from torch import Tensor

__all__ = ["Gaussian", "GaussianMixture", "DoubleWell"]


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
        noise = torch.randn(n, self.dim, dtype=self.mean.dtype)
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
        component = torch.randint(len(self.means), (n,))
        noise = torch.randn(n, self.means.shape[1], dtype=self.means.dtype)
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


class DoubleWell:
    r"""Tilted double well :math:`V(x) = x_0^4 - b x_0^2 + c x_0 + \sum_{i>0} x_i^2/(2s^2)`.

    Coordinate :math:`x_0` is bimodal, the others are centred Gaussians of standard deviation
    :math:`s` at unit temperature. With :math:`c > 0` the mode at :math:`x_0 > 0` is the minor
    one; :meth:`minor_mode_fraction` gives its Boltzmann weight by quadrature.

    Arguments:
        dim: Dimension :math:`D`.
        barrier: :math:`b`.
        tilt: :math:`c`.
        std: :math:`s`.

    Example:
        >>> round(DoubleWell(12).minor_mode_fraction(), 3)
        0.22
    """

    def __init__(self, dim: int = 12, barrier: float = 4.0, tilt: float = 0.48, std: float = 1.0):
        self.dim = dim
        self.barrier = barrier
        self.tilt = tilt
        self.std = std

    def bimodal_energy(self, x0: Tensor) -> Tensor:
        """Energy of the bimodal coordinate, elementwise."""
        return x0**4 - self.barrier * x0**2 + self.tilt * x0

    def potential(self, x: Tensor) -> Tensor:
        """:math:`V(x)`, shape ``(n,)``, for ``x`` of shape ``(n, D)``."""
        gaussian = x[:, 1:].square().sum(-1) / (2 * self.std**2)
        return self.bimodal_energy(x[:, 0]) + gaussian

    def minor_mode_fraction(self, temperature: float = 1.0) -> float:
        """Boltzmann probability of :math:`x_0 > 0` at ``temperature``, by quadrature."""

        def weight(x0: float) -> float:
            energy = self.bimodal_energy(torch.tensor(x0, dtype=torch.float64)).item()
            return math.exp(-energy / temperature)

        positive = integrate.quad(weight, 0.0, np.inf)[0]
        negative = integrate.quad(weight, -np.inf, 0.0)[0]
        return positive / (positive + negative)
