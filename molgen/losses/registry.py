"""Losses by name, with their options checked."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

import torch

from forcefields.errors import ConfigError, UnknownNameError
from molgen.losses.cache import pl2_cb
from molgen.losses.hydrogens import hydrogen_energy, hydrogen_kl
from molgen.losses.kl import kl_x, kl_z_dd, kl_z_df
from molgen.losses.pairs import pl2_bb, pl2_gb, pl2_gg
from molgen.losses.renyi import renyi_half
from molgen.losses.reweighted import kl_x_reweighted
from molgen.losses.sinkhorn import sinkhorn_dd, sinkhorn_df
from molgen.losses.variance import l2_plus

__all__ = ["LOSSES", "DATA_DEPENDENT", "MIN_POINTS", "get_loss"]

LOSSES: dict[str, Callable[..., torch.Tensor]] = {
    "kl_x": kl_x,
    "kl_z_dd": kl_z_dd,
    "kl_z_df": kl_z_df,
    "kl_x_reweighted": kl_x_reweighted,
    "renyi_half": renyi_half,
    "pl2_gg": pl2_gg,
    "pl2_bb": pl2_bb,
    "pl2_gb": pl2_gb,
    "pl2_cb": pl2_cb,
    "l2_plus": l2_plus,
    "sinkhorn_dd": sinkhorn_dd,
    "sinkhorn_df": sinkhorn_df,
    "hydrogen_kl": hydrogen_kl,
    "hydrogen_energy": hydrogen_energy,
}

DATA_DEPENDENT = frozenset({"kl_z_dd", "sinkhorn_dd", "hydrogen_energy"})

MIN_POINTS = {
    **dict.fromkeys(("pl2_gg", "pl2_bb", "pl2_gb", "pl2_cb", "l2_plus"), 2),
    **dict.fromkeys(("sinkhorn_dd", "sinkhorn_df"), 2),
}
"""The fewest points a batch of these losses needs (others: 1). A pair loss of one point
pairs it with itself and an ``l2_plus`` batch of one sits at its own mean ``K``: both are
exactly 0 and train nothing; a debiased Sinkhorn divergence excludes the diagonal."""


def get_loss(name: str, **options) -> Callable[..., torch.Tensor]:
    """The loss ``name`` with its keyword options bound: call it as ``loss(flow, beta_u_b, batch)``.

    Raises :class:`UnknownNameError` for an unknown name and :class:`ConfigError` for an
    unknown or missing option (e.g. ``pl2_cb`` needs ``cache=UnderSampledCache()``).
    """
    if name not in LOSSES:
        raise UnknownNameError(f"unknown loss {name!r}; known: {', '.join(sorted(LOSSES))}")
    loss = LOSSES[name]
    keyword_only = {
        parameter.name: parameter
        for parameter in inspect.signature(loss).parameters.values()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }
    unknown = sorted(set(options) - set(keyword_only))
    if unknown:
        raise ConfigError(f"loss {name!r}: unknown option(s) {', '.join(unknown)}")
    missing = sorted(
        key
        for key, parameter in keyword_only.items()
        if parameter.default is inspect.Parameter.empty and key not in options
    )
    if missing:
        raise ConfigError(f"loss {name!r}: missing option(s) {', '.join(missing)}")
    return functools.partial(loss, **options)
