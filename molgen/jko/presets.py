"""Ready-made problems for ``molgen jko``: initial law, functional, oracle and metrics."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy import stats
from torch import Tensor

from .baselines import potential_gradient
from .config import JKOConfig, JKOConfigError
from .distributions import Gaussian, GaussianMixture
from .flow import Distribution, JKOFlow
from .fokker_planck_1d import fokker_planck_1d
from .functionals import FreeEnergy, InteractionEnergy, PotentialEnergy, StepBatch
from .internal_energy import entropy, porous_medium
from .metrics import (
    fitted_gaussian_symkl_expected,
    gaussian_symkl,
    kde_symkl,
    symkl_from_log_densities,
)
from .mixture_tables import MIXTURE_TABLE, keyed_mixture_means
from .ou_oracles import QuadraticPotential, discrete_jko_ou, ou_marginal
from .porous_oracles import AGGREGATION_STEADY_ENERGY, Barenblatt, aggregation_steady_state
from .quantile_jko import mass_above, normal_quantiles, quantile_jko_steps
from .variational_entropy import VariationalEntropy

__all__ = ["Problem", "build_problem", "MIXTURE_TABLE"]

Metrics = dict[str, Any]


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
        reference_marginal: Density of the plotted observable at time ``t`` on a 1-D grid,
            ``(time, grid (G,)) -> (G,)``, if known.
        observable: The plotted observable of samples, ``(n, D) -> (n,)`` (default
            coordinate 0).
        observable_name: Axis label of the observable.
        reference_label: Legend of the reference curve: ``"oracle"`` (the exact law at
            each time) or what it is instead (e.g. the stationary target at every time).
    """

    initial: Distribution
    functional: Callable[[StepBatch], Tensor]
    evaluate: Callable[[JKOFlow, int], Metrics]
    drift_gradient: Callable[[Tensor], Tensor] | None = None
    temperature: float = 1.0
    evaluate_particles: Callable[[Tensor, float], Metrics] | None = None
    reference_marginal: Callable[[float, Tensor], Tensor | None] | None = None
    observable: Callable[[Tensor], Tensor] = lambda samples: samples[:, 0]
    observable_name: str = "x_0"
    reference_label: str = "oracle"


def _entropy(config: JKOConfig, temperature: float = 1.0) -> Callable[[StepBatch], Tensor]:
    """Negative entropy times ``temperature`` with the configured internal-energy backend."""
    if config.logdet.backend == "variational":
        settings = config.logdet
        return VariationalEntropy(
            config.dim,
            temperature,
            tuple(settings.dual_hidden),
            settings.dual_steps,
            settings.dual_learning_rate,
        )
    return entropy(temperature)


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
    return kde_symkl(particles, target.sample(points), target.log_prob, points)


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
        mean, covariance = samples.mean(0), torch.cov(samples.T).reshape(dim, dim)
        return {
            "symkl": _density_symkl(flow, law, n),
            "symkl_gaussian_fit": gaussian_symkl(mean, covariance, law.mean, law.covariance),
            "symkl_to_discrete_jko": gaussian_symkl(
                mean, covariance, discrete.mean, discrete.covariance
            ),
            "symkl_discrete_jko_to_exact": gaussian_symkl(
                discrete.mean, discrete.covariance, law.mean, law.covariance
            ),
            "symkl_sampling_only": fitted_gaussian_symkl_expected(dim, n)[0],
        }

    def evaluate_particles(particles: Tensor, time: float) -> Metrics:
        law = exact(time)
        mean, covariance = particles.mean(0), torch.cov(particles.T).reshape(dim, dim)
        return {
            "symkl": _kde_symkl(particles, law),
            "symkl_gaussian_fit": gaussian_symkl(mean, covariance, law.mean, law.covariance),
        }

    return Problem(
        initial=initial,
        functional=FreeEnergy([PotentialEnergy(potential), _entropy(config, temperature)]),
        evaluate=evaluate,
        drift_gradient=potential.drift_gradient,
        temperature=temperature,
        evaluate_particles=evaluate_particles,
        reference_marginal=lambda time, grid: _gaussian_marginal(exact(time), grid),
    )


def _mixture(config: JKOConfig) -> Problem:
    dim, settings = config.dim, config.problem
    components, width = MIXTURE_TABLE.get(dim, (10, 10.0))
    components, width = settings.components or components, settings.width or width
    if settings.mixture_key:
        means = keyed_mixture_means(settings.mixture_key, components, dim, width, config.seed)
        target = GaussianMixture(means)
    else:
        target = GaussianMixture.random(components, dim, width)
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
        functional=FreeEnergy([PotentialEnergy(target.potential), _entropy(config)]),
        evaluate=evaluate,
        drift_gradient=potential_gradient(target.potential),
        evaluate_particles=evaluate_particles,
        reference_marginal=marginal,
        reference_label="stationary target",
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


AGGREGATION_PAIRED_SAMPLES = 4000
"""Most samples whose interaction energy the aggregation preset evaluates: it pairs every
two, n(n - 1)/2 differences in memory."""


def _aggregation(config: JKOConfig) -> Problem:
    if config.dim != 1:
        raise JKOConfigError("dim: the aggregation preset (steady-state oracle) is one-dimensional")
    interaction = InteractionEnergy(_aggregation_kernel)

    def evaluate(flow: JKOFlow, n: int) -> Metrics:
        samples, _ = flow.sample(min(n, AGGREGATION_PAIRED_SAMPLES))
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
        reference_label="steady state",
    )


def _mode_fraction(labels: Tensor) -> tuple[float, float]:
    """Fraction of ``True`` in ``labels`` ``(n,)`` and its binomial standard error."""
    fraction = labels.double().mean().item()
    return fraction, math.sqrt(fraction * (1 - fraction) / len(labels))


class SeparableWellLaw:
    r"""The exact Fokker-Planck law of the double well at a time: the grid-solved density of
    :math:`x_0` times Ornstein-Uhlenbeck Gaussians for the other coordinates.

    Each Gaussian coordinate (energy :math:`x^2 / 2\sigma^2`, temperature :math:`T`) starts
    at variance :math:`s^2` and has variance
    :math:`T\sigma^2 + (s^2 - T\sigma^2)\,e^{-2t/\sigma^2}` at time :math:`t`.

    Arguments:
        grid: ``(G,)`` increasing :math:`x_0` nodes.
        x0_density: ``time -> (G,)`` density of :math:`x_0` on ``grid``.
        gaussian_std: :math:`\sigma`; initial_std: :math:`s`; temperature: :math:`T`.
        dim: ``D``, the bimodal coordinate included.
    """

    def __init__(
        self,
        grid: np.ndarray,
        x0_density: Callable[[float], np.ndarray],
        gaussian_std: float,
        initial_std: float,
        temperature: float,
        dim: int,
    ):
        self.grid, self.x0_density, self.dim = grid, x0_density, dim
        self.stationary = temperature * gaussian_std**2
        self.start = initial_std**2
        self.rate = 2.0 / gaussian_std**2

    def _x0_cdf(self, time: float) -> tuple[np.ndarray, np.ndarray]:
        """Density on the grid and its trapezoidal CDF, both normalised to mass 1."""
        density = self.x0_density(time)
        cdf = np.r_[0.0, np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(self.grid))]
        return density / cdf[-1], cdf / cdf[-1]

    def variance(self, time: float) -> float:
        """Variance of each Gaussian coordinate at ``time``."""
        return self.stationary + (self.start - self.stationary) * math.exp(-self.rate * time)

    def log_prob(self, x: Tensor, time: float) -> Tensor:
        """Exact log-density ``(n,)`` at points ``x`` ``(n, D)`` (``-inf`` off the grid)."""
        x0 = x[:, 0].double().cpu().numpy()
        density, _ = self._x0_cdf(time)
        with np.errstate(divide="ignore"):
            log_x0 = np.log(np.interp(x0, self.grid, density, left=0, right=0))
        variance = self.variance(time)
        rest = x[:, 1:].double().cpu()
        log_rest = -0.5 * (rest.square().sum(1) / variance) - 0.5 * (self.dim - 1) * math.log(
            2 * math.pi * variance
        )
        return (torch.from_numpy(log_x0) + log_rest).to(x)

    def sample(self, n: int, time: float) -> Tensor:
        """``n`` exact draws ``(n, D)`` (float64, CPU; torch's global RNG): :math:`x_0` by
        inverting the grid's piecewise-linear CDF."""
        _, cdf = self._x0_cdf(time)
        uniforms = torch.rand(n, dtype=torch.float64).numpy()
        x0 = torch.from_numpy(np.interp(uniforms, cdf, self.grid))
        rest = math.sqrt(self.variance(time)) * torch.randn(n, self.dim - 1, dtype=torch.float64)
        return torch.cat([x0[:, None], rest], dim=1)


def _double_well(config: JKOConfig) -> Problem:
    """The thesis's 12-D double well (``systems.double_well``) from :math:`\\mathcal N(0, s^2 I)`.

    The minor-mode fraction of the JKO density (fresh samples) is reported with its
    binomial standard error against three oracles: the Boltzmann value by quadrature (the
    stationary target), the exact Fokker-Planck value at the same time (the law the JKO
    scheme approximates: the bimodal coordinate evolves on its own, solved on a grid by
    :func:`~molgen.jko.fokker_planck_1d.fokker_planck_1d`), and the exact discrete-JKO value
    with the run's step size (``minor_mode_fraction_discrete_jko``: what JKO-ICNN would give
    with a perfect map, so the gap to it is optimisation error and the gap between it and
    Fokker-Planck is time-discretisation error). The energy is separable, so the
    discrete-JKO law of :math:`x_0` is computed on its own by
    :func:`~molgen.jko.quantile_jko.quantile_jko_steps` from the start's :math:`x_0`
    marginal, :math:`\\mathcal N(0, s^2)`, with 4000 quantiles: 25 steps of h = 2 take
    0.13 s (2-core CPU) and give 0.330, 0.278, 0.249, 0.224 at t = 2, 10, 20, 50.

    ``symkl`` is to the exact Fokker-Planck law (:class:`SeparableWellLaw`), infinite while
    a sample lies beyond the :math:`x_0` grid.
    """
    from systems.double_well import DoubleWell, bimodal_energy, is_minor_mode, minor_mode_fraction

    settings = config.problem
    temperature = settings.temperature
    well = DoubleWell(config.dim, settings.gaussian_std, 1 / temperature)
    quadrature = minor_mode_fraction(1 / temperature)

    def energy(x: np.ndarray) -> np.ndarray:
        return bimodal_energy(torch.from_numpy(x)).numpy()

    # Grid out to where u / T >= 100 (no stationary mass beyond); the start's tails beyond
    # it are folded into the end cells, which the steep drift empties within ~1e-2 time
    # units. An even node count puts x_0 = 0 on a cell boundary.
    edge = 2.0
    while min(energy(np.array([-edge, edge]))) / temperature < 100:
        edge *= 1.1
    grid = np.linspace(-edge, edge, 800)
    boundaries = np.r_[-np.inf, 0.5 * (grid[1:] + grid[:-1]), np.inf]
    start = np.diff(stats.norm.cdf(boundaries / settings.initial_std)) / (grid[1] - grid[0])
    densities: dict[float, np.ndarray] = {}

    def x0_density(time: float) -> np.ndarray:
        if time not in densities:
            densities[time] = fokker_planck_1d(energy, start, grid, [time], temperature)[0]
        return densities[time]

    step_size = config.flow.step_size
    jko_laws = [normal_quantiles(4000, std=settings.initial_std)]

    def discrete_jko_fraction(time: float) -> float | None:
        """Minor-mode fraction after ``time / h`` exact JKO steps (``None`` off the h grid)."""
        steps = round(time / step_size)
        if not math.isclose(steps * step_size, time, rel_tol=1e-9, abs_tol=1e-12):
            return None
        if steps >= len(jko_laws):
            missing = steps + 1 - len(jko_laws)
            laws = quantile_jko_steps(bimodal_energy, jko_laws[-1], step_size, missing, temperature)
            jko_laws.extend(laws[1:])
        return mass_above(jko_laws[steps], 0.0)

    def fractions(samples: Tensor, time: float) -> Metrics:
        fraction, sem = _mode_fraction(is_minor_mode(samples))
        metrics = {
            "minor_mode_fraction": fraction,
            "minor_mode_fraction_sem": sem,
            "minor_mode_fraction_quadrature": quadrature,
            "minor_mode_fraction_error": fraction - quadrature,
            "minor_mode_fraction_fokker_planck": float(
                x0_density(time)[grid > 0].sum() * (grid[1] - grid[0])
            ),
        }
        discrete = discrete_jko_fraction(time)
        if discrete is not None:
            metrics["minor_mode_fraction_discrete_jko"] = discrete
        return metrics

    def marginal(time: float, points: Tensor) -> Tensor:
        density = np.interp(points.double().cpu().numpy(), grid, x0_density(time))
        return torch.from_numpy(density).to(points.device)

    exact = SeparableWellLaw(
        grid, x0_density, settings.gaussian_std, settings.initial_std, temperature, config.dim
    )

    def evaluate(flow: JKOFlow, n: int) -> Metrics:
        samples, log_density = flow.sample(n)
        reference = exact.sample(n, flow.time).to(samples)
        symkl = symkl_from_log_densities(
            log_density,
            exact.log_prob(samples, flow.time),
            flow.log_prob(reference),
            exact.log_prob(reference, flow.time),
        )
        return {**fractions(samples, flow.time), "symkl": symkl}

    return Problem(
        initial=Gaussian(torch.zeros(config.dim), settings.initial_std**2 * torch.eye(config.dim)),
        functional=FreeEnergy([PotentialEnergy(well), _entropy(config, temperature)]),
        evaluate=evaluate,
        drift_gradient=potential_gradient(well),
        temperature=temperature,
        evaluate_particles=fractions,
        reference_marginal=marginal,
    )


def _butane(config: JKOConfig) -> Problem:
    r"""Fokker-Planck sampling of all 14 atoms of butane (:math:`D = 42`, nm) at 300 K.

    The potential is :math:`V = \beta U` with :math:`U` the clipped CHARMM energy plus the
    ``rigid`` alignment penalty (kJ/mol; time is in nm², i.e. a unit diffusion coefficient
    per Cartesian coordinate). The rigid penalty depends on the rigid-body pose alone, so
    the stationary law's internal coordinates are exactly Boltzmann (clipping changes only
    configurations tens to hundreds of kT above the minimum), and the C-C-C-C dihedral
    populations of the flow can be compared with a parallel-tempering reference.

    All atoms rather than the four carbons: a heavy-atom density needs the hydrogens
    integrated out (or minimised, as the thesis does, which shifts the mode ratios), and
    neither is available as a cheap differentiable potential of the carbons (the project
    ships no united-atom parameters). The start is :math:`\mathcal N(x_{\min}, s^2 I)` around the
    minimised (trans) structure, ``s = problem.initial_std`` nm.

    Measured (``configs/jko/butane.yaml``, README): up to t = 4 no sample leaves the trans
    mode, and the trans-well dihedral spread grows only slowly (0.03 rad at t = 1, 0.17 rad
    at t = 4, against 0.23 rad in parallel tempering): the gradient-of-convex maps relax the
    torsion, a rotation in Cartesian space, slowly and do not carry mass over its barrier.
    Euler-Maruyama particles of the same equation (``evaluate_particles``;
    ``python -m benchmarks.jko_butane_em``, 500 particles, dt = 5e-6) cross it well before:
    trans 0.936 ± 0.011 at t = 0.2, 0.776 ± 0.019 at t = 1 and 0.712 ± 0.020 at t = 2
    (``benchmarks/results/jko_butane_em*``), so JKO's 100 % trans is the maps' failure.
    """
    import systems
    from molgen.estimate.reference import read_reference

    settings = config.problem
    system = systems.load("butane")
    atoms = system.n_atoms
    if config.dim != 3 * atoms:
        raise JKOConfigError(
            f"dim: the butane preset samples all {atoms} atoms, so dim must be {3 * atoms}, "
            f"got {config.dim}"
        )
    if settings.initial_std > 0.05:
        raise JKOConfigError(
            f"problem.initial_std: {settings.initial_std} nm scatters atoms across their "
            "0.1-0.15 nm bonds; butane starts within 0.05 nm of the minimum (see "
            "configs/jko/butane.yaml)"
        )
    dtype = torch.get_default_dtype()
    trained = system.energy(dtype=dtype, clip="default", align={"mode": "rigid"})
    physical = system.energy(dtype=dtype)
    reference = read_reference(settings.reference) if settings.reference else None
    if reference is not None:
        reference_temperature = reference.stats.get("temperature")
        flow_temperature = system.temperature * settings.temperature
        if (
            reference_temperature is not None
            and abs(reference_temperature - flow_temperature) > 1e-6
        ):
            raise JKOConfigError(
                f"problem.reference: {settings.reference} is at {reference_temperature} K, "
                f"the flow at {flow_temperature} K"
            )
    minimum = torch.as_tensor(system.positions, dtype=dtype)
    minimum = minimum - minimum.mean(0)

    def coordinates(x: Tensor) -> Tensor:
        return x.reshape(len(x), atoms, 3)

    def potential(x: Tensor) -> Tensor:
        return system.beta * trained(coordinates(x))

    def dihedral(x: Tensor) -> Tensor:
        return system.observables["dihedral"](coordinates(x))

    def mode_metrics(samples: Tensor, time: float) -> Metrics:
        """Mode populations (binomial sem) and exact energy of ``samples`` ``(n, 42)``, with
        the reference's populations when there is one: JKO samples and Euler-Maruyama
        particles are evaluated alike (``time`` is unused)."""
        labels = torch.as_tensor(system.modes(coordinates(samples)))
        populations = {
            name: _mode_fraction(labels == index) for index, name in enumerate(system.mode_names)
        }
        with torch.no_grad():
            energies = physical(coordinates(samples))
        metrics: Metrics = {
            "populations": {name: value[0] for name, value in populations.items()},
            "population_sem": {name: value[1] for name, value in populations.items()},
            "energy_mean": energies.mean().item(),
            "energy_median": energies.median().item(),
        }
        if reference is not None:
            metrics["reference_populations"] = {
                name: reference.populations[name][0] for name in system.mode_names
            }
            metrics["reference_population_sem"] = {
                name: reference.populations[name][1] for name in system.mode_names
            }
            if "energy" in reference.stats:
                metrics["reference_energy_mean"] = reference.stats["energy"]["mean"]
        return metrics

    reference_dihedral = (
        None if reference is None else reference.equilibrated_frames.get("dihedral")
    )

    def marginal(time: float, grid: Tensor) -> Tensor | None:
        if reference_dihedral is None:
            return None
        density, edges = np.histogram(
            reference_dihedral, bins=36, range=(-math.pi, math.pi), density=True
        )
        points = grid.double().cpu().numpy()
        index = np.clip(np.searchsorted(edges, points) - 1, 0, len(density) - 1)
        values = np.where(np.abs(points) <= math.pi, density[index], 0.0)
        return torch.from_numpy(values).to(grid.device)

    return Problem(
        initial=Gaussian(minimum.reshape(-1), settings.initial_std**2 * torch.eye(3 * atoms)),
        functional=FreeEnergy([PotentialEnergy(potential), _entropy(config, settings.temperature)]),
        evaluate=lambda flow, n: mode_metrics(flow.sample(n)[0], flow.time),
        drift_gradient=potential_gradient(potential),
        temperature=settings.temperature,
        evaluate_particles=mode_metrics,
        reference_marginal=marginal,
        observable=dihedral,
        observable_name="C-C-C-C dihedral (rad)",
        reference_label="reference",
    )


BUILDERS = {
    "ou": _ou,
    "mixture": _mixture,
    "porous": _porous,
    "aggregation": _aggregation,
    "double_well": _double_well,
    "butane": _butane,
}


def build_problem(config: JKOConfig) -> Problem:
    """Builds the problem of ``config.preset`` (random parts drawn from the current seed)."""
    return BUILDERS[config.preset](config)
