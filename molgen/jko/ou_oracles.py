"""Exact Ornstein-Uhlenbeck marginals and the exact discrete JKO recursion."""

from __future__ import annotations

import torch
from torch import Tensor

from .distributions import Gaussian

__all__ = ["QuadraticPotential", "ou_marginal", "discrete_jko_ou"]


class QuadraticPotential:
    r"""Ornstein-Uhlenbeck potential :math:`V(x) = \frac12 (x-b)^\top A (x-b)`.

    Langevin dynamics :math:`dX = -A(X-b)\,dt + \sqrt{2\beta^{-1}}\,dW` has this drift.

    Arguments:
        matrix: :math:`A`, symmetric positive definite, shape ``(D, D)``.
        centre: :math:`b`, shape ``(D,)``.
    """

    def __init__(self, matrix: Tensor, centre: Tensor):
        self.matrix = matrix
        self.centre = centre

    @classmethod
    def random(cls, dim: int, dtype: torch.dtype | None = None) -> QuadraticPotential:
        """Random SPD :math:`A = QQ^\\top/D + I/2` and :math:`b \\sim \\mathcal N(0, I)`."""
        factor = torch.randn(dim, dim, dtype=dtype)
        matrix = factor @ factor.T / dim + 0.5 * torch.eye(dim, dtype=dtype)
        return cls(matrix, torch.randn(dim, dtype=dtype))

    def __call__(self, x: Tensor) -> Tensor:
        """:math:`V(x)`, shape ``(n,)``, for ``x`` of shape ``(n, D)``."""
        centred = x - self.centre
        return 0.5 * ((centred @ self.matrix) * centred).sum(-1)

    def drift_gradient(self, x: Tensor) -> Tensor:
        """:math:`\\nabla V(x) = A(x - b)`, shape ``(n, D)``."""
        return (x - self.centre) @ self.matrix


def _matrix_exponential_of_minus(matrix: Tensor, time: float) -> Tensor:
    eigenvalues, eigenvectors = torch.linalg.eigh(matrix)
    return eigenvectors @ torch.diag(torch.exp(-eigenvalues * time)) @ eigenvectors.T


def ou_marginal(
    potential: QuadraticPotential, initial: Gaussian, time: float, temperature: float = 1.0
) -> Gaussian:
    r"""Exact law of the Ornstein-Uhlenbeck process at ``time``.

    :math:`\mu_t = b + e^{-At}(\mu_0 - b)` and
    :math:`\Sigma_t = e^{-At}\Sigma_0 e^{-At} + \beta^{-1}A^{-1}(I - e^{-2At})`.

    Arguments:
        potential: The quadratic potential (:math:`A`, :math:`b`).
        initial: :math:`\mathcal N(\mu_0, \Sigma_0)`.
        time: :math:`t \ge 0`.
        temperature: :math:`\beta^{-1}`.
    """
    decay = _matrix_exponential_of_minus(potential.matrix, time)
    identity = torch.eye(len(decay), dtype=decay.dtype, device=decay.device)
    mean = potential.centre + decay @ (initial.mean - potential.centre)
    stationary = temperature * torch.linalg.inv(potential.matrix)
    covariance = decay @ initial.covariance @ decay + stationary @ (identity - decay @ decay)
    return Gaussian(mean, 0.5 * (covariance + covariance.T))


def _check_commuting(matrix: Tensor, covariance: Tensor) -> None:
    """Raises ``ValueError`` unless ``matrix`` and ``covariance`` ``(D, D)`` commute to
    round-off (100 machine epsilons of the product of their norms); tensors on the meta
    device carry no values to check."""
    if matrix.is_meta or covariance.is_meta:
        return
    commutator = matrix @ covariance - covariance @ matrix
    scale = torch.linalg.matrix_norm(matrix) * torch.linalg.matrix_norm(covariance)
    tolerance = 100 * torch.finfo(matrix.dtype).eps * scale
    if torch.linalg.matrix_norm(commutator) > tolerance:
        raise ValueError(
            "discrete_jko_ou: the initial covariance must commute with the potential's "
            f"matrix A (|A S - S A| = {float(torch.linalg.matrix_norm(commutator)):.3g}); "
            "the per-eigenvalue recursion is exact only then"
        )


def discrete_jko_ou(
    potential: QuadraticPotential,
    initial: Gaussian,
    step_size: float,
    steps: int,
    temperature: float = 1.0,
) -> Gaussian:
    r"""Exact result of ``steps`` JKO steps for the Ornstein-Uhlenbeck free energy.

    Each step maps Gaussians to Gaussians: :math:`\mu_{k+1} = (I + hA)^{-1}(\mu_k + hAb)`
    and, per eigenvalue :math:`a` of :math:`A`, the variance is multiplied by
    :math:`g^2` with :math:`g = \frac{\sigma/h + \sqrt{\sigma^2/h^2 + 4\sigma(1/h+a)/\beta}}
    {2\sigma(1/h + a)}`. Requires :math:`\Sigma_0` to commute with :math:`A`. It separates
    the time-discretisation error of JKO from the optimisation error of a learned map.

    Arguments:
        potential: The quadratic potential (:math:`A`, :math:`b`).
        initial: :math:`\mathcal N(\mu_0, \Sigma_0)` with :math:`\Sigma_0 A = A\Sigma_0`.
        step_size: :math:`h`.
        steps: Number of JKO steps.
        temperature: :math:`\beta^{-1}`.
    """
    _check_commuting(potential.matrix, initial.covariance)
    eigenvalues, eigenvectors = torch.linalg.eigh(potential.matrix)
    variances = (eigenvectors.T @ initial.covariance @ eigenvectors).diagonal()
    identity = torch.eye(len(eigenvalues), dtype=eigenvalues.dtype, device=eigenvalues.device)
    mean = initial.mean
    h = step_size
    for _ in range(steps):
        mean = torch.linalg.solve(
            identity + h * potential.matrix, mean + h * potential.matrix @ potential.centre
        )
        stiffness = 1 / h + eigenvalues
        root = torch.sqrt(variances**2 / h**2 + 4 * variances * stiffness * temperature)
        scale = (variances / h + root) / (2 * variances * stiffness)
        variances = scale**2 * variances
    covariance = eigenvectors @ torch.diag(variances) @ eigenvectors.T
    return Gaussian(mean, 0.5 * (covariance + covariance.T))
