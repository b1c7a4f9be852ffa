"""JKO-ICNN Wasserstein gradient flows for Fokker-Planck sampling.

Each JKO step fits an input-convex network whose gradient maps the current particle
cloud to the next one; densities follow from the Hessian log-determinants. A potential is
any callable ``V(x: Tensor(B, D)) -> Tensor(B,)``.
"""

from .baselines import euler_maruyama, potential_gradient
from .dense_icnn import ConvexQuadratic, DenseICNN
from .derivatives import gradient, gradient_and_hessian, hessian, hessian_vector_product
from .distributions import Gaussian, GaussianMixture
from .exact_logdet import ExactLogDet
from .flow import Distribution, JKOFlow
from .fokker_planck_1d import fokker_planck_1d
from .functionals import FreeEnergy, InteractionEnergy, PotentialEnergy, StepBatch
from .icnn import FICNN
from .identity import fit_identity
from .internal_energy import InternalEnergy, entropy, porous_medium
from .inversion import invert_gradient_map
from .metrics import (
    energy_distance,
    fitted_gaussian_symkl_expected,
    gaussian_symkl,
    kde_log_density,
    kde_symkl,
    mmd,
    symkl_from_log_densities,
)
from .ou_oracles import QuadraticPotential, discrete_jko_ou, ou_marginal
from .porous_oracles import (
    AGGREGATION_STEADY_ENERGY,
    Barenblatt,
    aggregation_steady_state,
    porous_fokker_planck_steady_state,
)
from .quadratic_residual import QuadraticResidual
from .quantile_jko import mass_above, normal_quantiles, quantile_free_energy, quantile_jko_steps
from .step import StepSettings, cloud_objective, jko_loss, train_step
from .stochastic_logdet import StochasticLogDet
from .variational_entropy import VariationalEntropy

__all__ = [
    "AGGREGATION_STEADY_ENERGY",
    "Barenblatt",
    "ConvexQuadratic",
    "DenseICNN",
    "Distribution",
    "ExactLogDet",
    "FICNN",
    "FreeEnergy",
    "Gaussian",
    "GaussianMixture",
    "InteractionEnergy",
    "InternalEnergy",
    "JKOFlow",
    "PotentialEnergy",
    "QuadraticPotential",
    "QuadraticResidual",
    "StepBatch",
    "StepSettings",
    "StochasticLogDet",
    "VariationalEntropy",
    "aggregation_steady_state",
    "cloud_objective",
    "discrete_jko_ou",
    "energy_distance",
    "entropy",
    "euler_maruyama",
    "fit_identity",
    "fokker_planck_1d",
    "fitted_gaussian_symkl_expected",
    "gaussian_symkl",
    "gradient",
    "gradient_and_hessian",
    "hessian",
    "hessian_vector_product",
    "invert_gradient_map",
    "jko_loss",
    "kde_log_density",
    "kde_symkl",
    "mass_above",
    "mmd",
    "normal_quantiles",
    "ou_marginal",
    "porous_fokker_planck_steady_state",
    "porous_medium",
    "potential_gradient",
    "quantile_free_energy",
    "quantile_jko_steps",
    "symkl_from_log_densities",
    "train_step",
]
