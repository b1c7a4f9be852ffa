"""Ready-made problems for ``molgen jko``: initial law, functional, oracle and metrics."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from .baselines import potential_gradient
from .config import JKOConfig, JKOConfigError
from .distributions import DoubleWell, Gaussian, GaussianMixture
from .flow import Distribution, JKOFlow
from .functionals import FreeEnergy, InteractionEnergy, PotentialEnergy, StepBatch
from .internal_energy import entropy, porous_medium
from .metrics import gaussian_symkl, kde_log_density, symkl_from_log_densities
from .ou_oracles import QuadraticPotential, discrete_jko_ou, ou_marginal
from .porous_oracles import AGGREGATION_STEADY_ENERGY, Barenblatt, aggregation_steady_state

__all__ = ["Problem", "build_problem", "MIXTURE_TABLE"]

MIXTURE_TABLE = {
    2: (5, 10.0),
    4: (6, 10.0),
    6: (7, 10.0),
    8: (8, 10.0),
    10: (9, 10.0),
    12: (10, 10.0),
}
"""Dimension -> (components, width) of the large-scale WGF mixture experiment (Table 1)."""

Metrics = dict[str, float]


@dataclass
class Problem:
    """One gradient-flow problem.

    Attributes:
        initial: :math:`\\rho_0`.
        functional: Free energy of a :class:`StepBatch`.
        evaluate: Metrics of a flow at its current time, from ``n`` fresh samples.
        drift_gradient: :math:`\\nabla V` for the Euler-Maruyama baseline (Fokker-Planck only).
        temperature: :math:`\\beta^{-1}` of the baseline.
        evaluate_particles: Metrics of baseline particles at a time.
        reference_marginal: Density of coordinate 0 at time ``t`` on a 1-D grid, if known.
    """

    initial: Distribution
    functional: Callable[[StepBatch], Tensor]
    evaluate: Callable[[JKOFlow, int], Metrics]
    drift_gradient: Callable[[Tensor], Tensor] | None = None
    temperature: float = 1.0
    evaluate_particles: Callable[[Tensor, float], Metrics] | None = None
    reference_marginal: Callable[[float, Tensor], Tensor] | None = None


def _gaussian_marginal(law: Gaussian, grid: Tensor) -> Tensor:
    variance = law.covariance[0, 0]
    return torch.exp(-0.5 * (grid - law.mean[0]) ** 2 / variance) / torch.sqrt(
        2 * math.pi * variance
    )


def _density_symkl(flow: JKOFlow, target: Distribution, n: int) -> float:
    samples, log_density = flow.sample(n)
    reference = target.sample(n)
    return symkl_from_log_densities(
        log_density, target.log_prob(samples), flow.log_prob(reference), target.log_prob(reference)
    )


def _kde_symkl(particles: Tensor, target: Distribution, points: int = 4000) -> float:
    """SymKL of a kernel density estimate of ``particles`` to ``target``, on ``points`` each."""
    own = particles[torch.randperm(len(particles))[:points]]
    reference = target.sample(len(own))
    return symkl_from_log_densities(
        kde_log_density(particles, own).to(own.dtype),
        target.log_prob(own),
        kde_log_density(particles, reference).to(own.dtype),
        target.log_prob(reference),
    )


def _ou(config: JKOConfig) -> Problem:
    dim, temperature = config.dim, config.problem.temperature
    potential = QuadraticPotential.random(dim)
    initial = Gaussian.standard(dim)
    step_size = config.flow.step_size

    def exact(time: float) -> Gaussian:
        return ou_marginal(potential, initial, time, temperature)

    def evaluate(flow: JKOFlow, n: int) -> Metrics:
        law = exact(flow.time)
        steps = len(flow.potentials)
        discrete = discrete_jko_ou(potential, initial, step_size, steps, temperature)
        samples, _ = flow.sample(n)
        mean, covariance = samples.mean(0), torch.cov(samples.T)
        return {
            "symkl": _density_symkl(flow, law, n),
            "symkl_gaussian_fit": gaussian_symkl(mean, covariance, law.mean, law.covariance),
            "symkl_to_discrete_jko": gaussian_symkl(
                mean, covariance, discrete.mean, discrete.covariance
            ),
            "symkl_discrete_jko_to_exact": gaussian_symkl(
                discrete.mean, discrete.covariance, law.mean, law.covariance
            ),
        }

    def evaluate_particles(particles: Tensor, time: float) -> Metrics:
        law = exact(time)
        mean, covariance = particles.mean(0), torch.cov(particles.T)
        return {
            "symkl": _kde_symkl(particles, law),
            "symkl_gaussian_fit": gaussian_symkl(mean, covariance, law.mean, law.covariance),
        }

    return Problem(
        initial=initial,
        functional=FreeEnergy([PotentialEnergy(potential), entropy(temperature)]),
        evaluate=evaluate,
        drift_gradient=potential.drift_gradient,
        temperature=temperature,
        evaluate_particles=evaluate_particles,
        reference_marginal=lambda time, grid: _gaussian_marginal(exact(time), grid),
    )


def _mixture(config: JKOConfig) -> Problem:
    dim, settings = config.dim, config.problem
    components, width = MIXTURE_TABLE.get(dim, (10, 10.0))
    target = GaussianMixture.random(settings.components or components, dim, settings.width or width)
    initial = Gaussian(torch.zeros(dim), settings.initial_std**2 * torch.eye(dim))

    def evaluate(flow: JKOFlow, n: int) -> Metrics:
        return {"symkl": _density_symkl(flow, target, n)}

    def evaluate_particles(particles: Tensor, time: float) -> Metrics:
        return {"symkl": _kde_symkl(particles, target)}

    def marginal(time: float, grid: Tensor) -> Tensor:
        means = target.means[:, 0]
        gauss = torch.exp(-0.5 * (grid[:, None] - means) ** 2) / math.sqrt(2 * math.pi)
        return gauss.mean(-1)

    return Problem(
        initial=initial,
        functional=FreeEnergy([PotentialEnergy(target.potential), entropy()]),
        evaluate=evaluate,
        drift_gradient=potential_gradient(target.potential),
        evaluate_particles=evaluate_particles,
        reference_marginal=marginal,
    )


class _BarenblattStart:
    def __init__(self, profile: Barenblatt):
        self.profile = profile

    def sample(self, n: int) -> Tensor:
        return self.profile.sample(n)

    def log_prob(self, x: Tensor) -> Tensor:
        return self.profile.log_prob(x)


def _porous(config: JKOConfig) -> Problem:
    settings = config.problem
    profile = Barenblatt(config.dim, settings.exponent, settings.time_offset)

    def evaluate(flow: JKOFlow, n: int) -> Metrics:
        _, log_density = flow.sample(n)
        energy = torch.exp((settings.exponent - 1) * log_density).mean().item()
        exact = profile.energy(flow.time)
        return {
            "energy": energy,
            "energy_exact": exact,
            "energy_relative_error": energy / exact - 1,
        }

    return Problem(
        initial=_BarenblattStart(profile),
        functional=porous_medium(settings.exponent),
        evaluate=evaluate,
        reference_marginal=lambda time, grid: (
            profile.density(grid[:, None], time) if config.dim == 1 else None
        ),
    )


def _aggregation_kernel(difference: Tensor) -> Tensor:
    distance = difference.norm(dim=-1)
    return 0.5 * distance.square() - distance.log()


def _aggregation(config: JKOConfig) -> Problem:
    if config.dim != 1:
        raise JKOConfigError("dim: the aggregation preset (steady-state oracle) is one-dimensional")
    interaction = InteractionEnergy(_aggregation_kernel)

    def evaluate(flow: JKOFlow, n: int) -> Metrics:
        samples, _ = flow.sample(min(n, 4000))
        energy = interaction(StepBatch(samples, samples, torch.zeros(len(samples)))).item()
        return {
            "interaction_energy": energy,
            "interaction_energy_steady": AGGREGATION_STEADY_ENERGY,
            "relative_error": energy / AGGREGATION_STEADY_ENERGY - 1,
        }

    return Problem(
        initial=Gaussian.standard(1),
        functional=interaction,
        evaluate=evaluate,
        reference_marginal=lambda time, grid: aggregation_steady_state(grid[:, None]),
    )


def _double_well(config: JKOConfig) -> Problem:
    settings = config.problem
    well = DoubleWell(config.dim, settings.barrier, settings.tilt, settings.gaussian_std)
    temperature = settings.temperature
    exact_fraction = well.minor_mode_fraction(temperature)

    def evaluate(flow: JKOFlow, n: int) -> Metrics:
        samples, _ = flow.sample(n)
        fraction = (samples[:, 0] > 0).double().mean().item()
        return {"minor_mode_fraction": fraction, "minor_mode_fraction_exact": exact_fraction}

    def evaluate_particles(particles: Tensor, time: float) -> Metrics:
        return {"minor_mode_fraction": (particles[:, 0] > 0).double().mean().item()}

    return Problem(
        initial=Gaussian(torch.zeros(config.dim), settings.initial_std**2 * torch.eye(config.dim)),
        functional=FreeEnergy([PotentialEnergy(well.potential), entropy(temperature)]),
        evaluate=evaluate,
        drift_gradient=potential_gradient(well.potential),
        temperature=temperature,
        evaluate_particles=evaluate_particles,
    )


BUILDERS = {
    "ou": _ou,
    "mixture": _mixture,
    "porous": _porous,
    "aggregation": _aggregation,
    "double_well": _double_well,
}


def build_problem(config: JKOConfig) -> Problem:
    """Builds the problem of ``config.preset`` (random parts drawn from the current seed)."""
    if config.preset not in BUILDERS:
        raise JKOConfigError(
            f"preset: {config.preset!r} is not available yet (butane needs the CHARMM energy)"
        )
    return BUILDERS[config.preset](config)
