"""Stochastic log-determinant of a Hessian: Lanczos value, Hutchinson-CG gradient."""

from __future__ import annotations

import torch
from torch import Tensor

from .derivatives import hessian_vector_product
from .krylov import conjugate_gradient, lanczos_quadrature

__all__ = ["StochasticLogDet", "rademacher"]


def rademacher(shape: tuple[int, ...], like: Tensor) -> Tensor:
    """Returns random signs ``±1`` with the dtype and device of ``like``."""
    signs = torch.randint(0, 2, shape, device=like.device)
    return (2 * signs - 1).to(like.dtype)


class StochasticLogDet:
    r"""Matrix-free :math:`\log\det\nabla^2 u(x)` for large :math:`D`.

    The value is the stochastic Lanczos quadrature (SLQ) average of
    :math:`v^\top \log(H)\, v` over Rademacher probes :math:`v`. The gradient with
    respect to the parameters of :math:`u` is the Hutchinson estimate of
    :math:`\mathrm{tr}(H^{-1}\partial_\theta H)`: conjugate gradients give
    :math:`z \approx H^{-1}v` and :math:`\partial_\theta[\mathrm{SG}(z)^\top H v]` is
    back-propagated. The returned tensor carries the SLQ value and the Hutchinson-CG
    gradient. Both estimates are unbiased over probes once ``lanczos_steps`` and
    ``cg_iterations`` reach :math:`D`; their probe variance is
    :math:`2\sum_{i\ne j} (\log H)_{ij}^2 / n_{\mathrm{probes}}` for the value.

    References:
        | Optimizing Functionals on the Space of Probabilities with Input Convex Neural
          Networks (Alvarez-Melis et al., 2021), App. B.4
        | Convex Potential Flows (Huang et al., 2021), §4

    Arguments:
        probes: Number of Rademacher probes per sample.
        lanczos_steps: Lanczos iterations for the value.
        cg_iterations: Maximum conjugate-gradient iterations for the gradient.
        cg_tolerance: Relative residual at which conjugate gradients stop.

    Example:
        >>> from molgen.jko.derivatives import gradient
        >>> x, grad = gradient(lambda x: x.square().sum(-1), torch.randn(4, 3))
        >>> StochasticLogDet(probes=2)(x, grad).detach()  # log det(2 I) = 3 log 2
        tensor([2.0794, 2.0794, 2.0794, 2.0794])
    """

    def __init__(
        self,
        probes: int = 1,
        lanczos_steps: int = 10,
        cg_iterations: int = 20,
        cg_tolerance: float = 1e-5,
    ):
        self.probes = probes
        self.lanczos_steps = lanczos_steps
        self.cg_iterations = cg_iterations
        self.cg_tolerance = cg_tolerance

    def __call__(self, x: Tensor, grad: Tensor) -> Tensor:
        """Returns the log-determinant estimates, shape ``(B,)``.

        Arguments:
            x: Points that require grad, shape ``(B, D)``.
            grad: :math:`\\nabla u(x)` computed with ``create_graph=True``, shape ``(B, D)``.
        """

        def matvec(vector: Tensor) -> Tensor:
            return hessian_vector_product(x, grad, vector, create_graph=False).detach()

        values, surrogates = [], []
        for _ in range(self.probes):
            probe = rademacher(tuple(x.shape), x)
            values.append(lanczos_quadrature(matvec, probe, self.lanczos_steps))
            solution = conjugate_gradient(matvec, probe, self.cg_iterations, self.cg_tolerance)
            product = hessian_vector_product(x, grad, probe, create_graph=True)
            surrogates.append((solution.detach() * product).sum(-1))
        value = torch.stack(values).mean(0)
        surrogate = torch.stack(surrogates).mean(0)
        return value + surrogate - surrogate.detach()
