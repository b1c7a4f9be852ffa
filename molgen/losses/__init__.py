"""The training losses of the thesis, one function per loss, named after it.

Calling convention (every loss)::

    loss(flow, beta_u_b, batch, **options) -> scalar tensor

* ``flow``: a :class:`molgen.flows.Flow` (the generator :math:`G`, density :math:`p_G`).
* ``beta_u_b``: callable, points ``(B, D)`` -> reduced target energy :math:`\\beta U_B`
  ``(B,)`` (dimensionless). Losses that only use data (``kl_z_dd``, ``sinkhorn_dd``)
  ignore it; pass ``None``.
* ``batch``:
  - data-dependent losses (``kl_z_dd``, ``sinkhorn_dd``, ``hydrogen_energy``): data
    ``(n, D)`` from :math:`p_B`;
  - forward-pass losses (``kl_x``, ``kl_x_reweighted``, ``renyi_half``, ``sinkhorn_df``,
    and ``pl2_cb``, which keeps a cache): the number of points ``n`` to generate;
  - inverse-pass losses (``kl_z_df``, ``pl2_gg``, ``pl2_bb``, ``pl2_gb``, ``l2_plus``):
    ``n`` to generate, or points ``(n, D)`` already drawn from :math:`p_G` (so a mixture
    of losses can share one sample); either way they are detached.
* ``options``: keyword-only, loss-specific (weight scheme, cache, epsilon, ...).

Detaching follows the thesis. Inverse-pass losses differentiate only
:math:`U_G = -\\log p_G` at detached points; :math:`U_B` is evaluated without gradient,
batch weights and means (:math:`K^\\ddagger` of ``l2_plus``) are detached. Forward-pass
losses differentiate through the samples, :math:`U_B` included. Values are the thesis's
losses up to additive constants that carry no gradient (each docstring says which).

``get_loss(name, **options)`` binds options and checks them; ``LOSSES`` maps names to
the functions. Stateful pieces live in option objects: ``UnderSampledCache`` for
``pl2_cb``, ``AdaptiveModeWeights`` for ``kl_x_reweighted``; both have
``state_dict``/``load_state_dict`` for checkpoints.
"""

from molgen.losses.batch import detached_points, log_ratio
from molgen.losses.cache import UnderSampledCache, pl2_cb
from molgen.losses.hydrogens import hydrogen_energy, hydrogen_kl
from molgen.losses.kl import kl_x, kl_z_dd, kl_z_df
from molgen.losses.pairs import masked_pair_loss, pl2_bb, pl2_gb, pl2_gg
from molgen.losses.registry import DATA_DEPENDENT, LOSSES, MIN_POINTS, get_loss
from molgen.losses.renyi import renyi_half
from molgen.losses.reweighted import (
    AdaptiveModeWeights,
    FixedModeWeights,
    RatioModeWeights,
    kl_x_reweighted,
)
from molgen.losses.sinkhorn import (
    entropic_transport,
    sinkhorn_dd,
    sinkhorn_df,
    sinkhorn_divergence,
)
from molgen.losses.variance import l2_plus
from molgen.losses.weights import WEIGHT_SCHEMES, batch_weights

__all__ = [
    "hydrogen_energy",
    "hydrogen_kl",
    "AdaptiveModeWeights",
    "DATA_DEPENDENT",
    "FixedModeWeights",
    "LOSSES",
    "MIN_POINTS",
    "RatioModeWeights",
    "UnderSampledCache",
    "WEIGHT_SCHEMES",
    "batch_weights",
    "detached_points",
    "entropic_transport",
    "get_loss",
    "kl_x",
    "kl_x_reweighted",
    "kl_z_dd",
    "kl_z_df",
    "l2_plus",
    "log_ratio",
    "masked_pair_loss",
    "pl2_bb",
    "pl2_cb",
    "pl2_gb",
    "pl2_gg",
    "renyi_half",
    "sinkhorn_dd",
    "sinkhorn_df",
    "sinkhorn_divergence",
]
