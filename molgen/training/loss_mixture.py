"""A phase's weighted mixture of losses, as one module that DDP can wrap.

Loss options come from YAML as plain values; the few that are objects are built here:

* ``pl2_cb``: ``keep`` (fraction of the batch cached, default 0.5) builds the
  :class:`~molgen.losses.UnderSampledCache`.
* ``kl_x_reweighted``: ``scheme`` ``fixed`` (with ``weights``), ``ratio`` (with ``target``)
  or ``adaptive`` (with ``target`` and optional ``factor``) builds the mode-weight object;
  mode labels come from ``System.modes``.
* ``clamp``: a two-element list becomes a tuple.

Every other option is passed to the loss unchanged and checked by ``get_loss``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from forcefields.errors import ConfigError, UnknownNameError
from molgen.flows.flow import Flow
from molgen.losses import (
    DATA_DEPENDENT,
    AdaptiveModeWeights,
    FixedModeWeights,
    RatioModeWeights,
    UnderSampledCache,
    get_loss,
)
from molgen.losses.weights import WEIGHT_SCHEMES
from molgen.training.target import mode_labels
from systems.registry import System

__all__ = ["LossTerm", "Objective", "build_terms", "SHARED_SAMPLE_LOSSES"]

SHARED_SAMPLE_LOSSES = frozenset({"kl_z_df", "pl2_gg", "pl2_bb", "pl2_gb", "l2_plus"})
"""Inverse-pass losses that accept points already drawn from ``p_G`` (one draw per step
serves them all; see the calling convention in ``molgen.losses``)."""


@dataclass
class LossTerm:
    """One loss of a mixture.

    Attributes:
        name: loss name.
        weight: its weight in the total.
        function: ``loss(flow, beta_u_b, batch)`` with options bound.
        state: option objects with ``state_dict``/``load_state_dict`` (cache, mode weights).
    """

    name: str
    weight: float
    function: Callable[..., torch.Tensor]
    state: dict[str, Any]

    @property
    def batch_kind(self) -> str:
        """``data``, ``shared`` (pre-drawn detached points) or ``count`` (samples itself)."""
        if self.name in DATA_DEPENDENT:
            return "data"
        return "shared" if self.name in SHARED_SAMPLE_LOSSES else "count"


def build_terms(
    losses: dict[str, float], options: dict[str, dict[str, Any]], system: System, path: str
) -> list[LossTerm]:
    """Loss terms of a phase; ``path`` (``phases[i]``) prefixes every error."""
    terms = []
    for name, weight in losses.items():
        raw = dict(options.get(name, {}))
        option_path = f"{path}.loss_options.{name}"
        try:
            bound, state = _objects(name, raw, system, option_path)
            function = get_loss(name, **bound)
        except (ConfigError, UnknownNameError, ValueError, TypeError) as error:
            message = str(error)
            raise ConfigError(
                message if message.startswith(option_path) else f"{option_path}: {message}"
            ) from error
        terms.append(LossTerm(name, weight, function, state))
    return terms


def _objects(
    name: str, options: dict[str, Any], system: System, path: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    state: dict[str, Any] = {}
    _check_option_values(name, options, path)
    if "clamp" in options:
        options["clamp"] = tuple(float(bound) for bound in options["clamp"])
    if name == "pl2_cb":
        cache = UnderSampledCache(float(options.pop("keep", 0.5)))
        options["cache"] = cache
        state["cache"] = cache
    if name == "kl_x_reweighted":
        scheme = options.pop("scheme", None)
        if scheme not in ("fixed", "ratio", "adaptive"):
            raise ConfigError(f"{path}.scheme: expected fixed, ratio or adaptive, got {scheme!r}")
        if system.mode_function is None:
            raise ConfigError(f"{path}: system {system.name!r} has no modes to reweight")
        if scheme == "fixed":
            weights = FixedModeWeights(_per_mode(options, "weights", system, path))
        elif scheme == "ratio":
            weights = RatioModeWeights(_per_mode(options, "target", system, path))
        else:
            target = _per_mode(options, "target", system, path)
            weights = AdaptiveModeWeights(target, float(options.pop("factor", 1.01)))
            state["mode_weights"] = weights
        options["mode_weights"] = weights
        options["mode_of"] = lambda x: mode_labels(system, x).to(x.device)
    return options, state


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_option_values(name: str, options: dict[str, Any], path: str) -> None:
    """Refuses option values the loss ``name`` would fail on, or train nothing with, at
    its first step: each message names ``path.option``."""
    batch_weights = name != "kl_x_reweighted"  # whose "weights" are per-mode numbers
    if batch_weights and "weights" in options and options["weights"] not in WEIGHT_SCHEMES:
        raise ConfigError(
            f"{path}.weights: expected one of {', '.join(WEIGHT_SCHEMES)}, "
            f"got {options['weights']!r}"
        )
    for key in ("temperature", "epsilon"):
        if key in options and not (_is_number(options[key]) and options[key] > 0):
            raise ConfigError(f"{path}.{key}: expected a positive number, got {options[key]!r}")
    if "iterations" in options:
        iterations = options["iterations"]
        if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
            raise ConfigError(f"{path}.iterations: expected a positive integer, got {iterations!r}")
    if "factor" in options and not (_is_number(options["factor"]) and options["factor"] > 1):
        raise ConfigError(
            f"{path}.factor: expected a number above 1 (the thesis uses 1.01), "
            f"got {options['factor']!r}"
        )
    if "clamp" in options:
        clamp = options["clamp"]
        if not (
            isinstance(clamp, list | tuple)
            and len(clamp) == 2
            and all(_is_number(bound) for bound in clamp)
            and 0 < clamp[0] < clamp[1]
        ):
            raise ConfigError(
                f"{path}.clamp: expected [low, high] with 0 < low < high, got {clamp!r}"
            )


def _per_mode(options: dict[str, Any], key: str, system: System, path: str) -> list[float]:
    """``options[key]`` (removed from ``options``): one non-negative number per mode of
    ``system``, not all zero (every point would weigh nothing and the phase train
    nothing), or a :class:`ConfigError` naming ``path.key``."""
    if key not in options:
        raise ConfigError(f"{path}.{key}: required, one value per mode {list(system.mode_names)}")
    values = options.pop(key)
    if not isinstance(values, list | tuple) or any(
        isinstance(value, bool) or not isinstance(value, int | float) for value in values
    ):
        raise ConfigError(f"{path}.{key}: expected a list of numbers, got {values!r}")
    if len(values) != len(system.mode_names):
        raise ConfigError(
            f"{path}.{key}: {len(values)} values, but system {system.name!r} has "
            f"{len(system.mode_names)} modes {list(system.mode_names)}"
        )
    if not all(math.isfinite(value) and value >= 0 for value in values):
        raise ConfigError(f"{path}.{key}: values must be finite and >= 0, got {values!r}")
    if not any(value > 0 for value in values):
        raise ConfigError(f"{path}.{key}: every value is 0, so no point would carry weight")
    return [float(value) for value in values]


class Objective(torch.nn.Module):
    """The weighted sum of a phase's losses on one process's share of a batch.

    Holds the flow as its only submodule, so wrapping this module in
    ``DistributedDataParallel`` synchronises the flow's gradients.

    Arguments:
        flow: the generator.
        terms: the loss terms.
        beta_u_b: reduced target energy ``(B, D) -> (B,)``.
    """

    def __init__(
        self, flow: Flow, terms: list[LossTerm], beta_u_b: Callable[[torch.Tensor], torch.Tensor]
    ):
        super().__init__()
        self.flow = flow
        self.terms = terms
        self.beta_u_b = beta_u_b

    @property
    def needs_data(self) -> bool:
        """Whether a data batch must be passed to :meth:`forward`."""
        return any(term.batch_kind == "data" for term in self.terms)

    def forward(
        self, count: int, data: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Total loss (scalar) and the unweighted loss values ``(K,)`` (detached).

        Terms of weight 0 are evaluated and returned but left out of the total, so a
        non-finite logged-only value neither trains nor skips the step.

        ``count`` points are generated per loss that samples; ``data`` ``(count, D)``
        feeds data-dependent losses.
        """
        shared = None
        values = []
        total = None
        for term in self.terms:
            if term.batch_kind == "data":
                batch = data
            elif term.batch_kind == "shared":
                if shared is None:
                    with torch.no_grad():
                        shared = self.flow.sample(count)[0]
                batch = shared
            else:
                batch = count
            value = term.function(self.flow, self.beta_u_b, batch)
            if term.weight != 0:
                # a weight-0 term is only logged: 0 * nan would make the total (and step) nan
                weighted = term.weight * value
                total = weighted if total is None else total + weighted
            values.append(value.detach())
        if total is not None and torch.is_grad_enabled() and not total.requires_grad:
            total = self._disconnected(total)
        return total, torch.stack(values)

    def _disconnected(self, total: torch.Tensor) -> torch.Tensor:
        """A NaN total tied to the trainable parameters, for a total that does not depend
        on them (every sample was dropped, e.g. coordinates whose squares overflow): the
        trainer skips and counts the step like a non-finite one, instead of failing in
        ``backward`` or letting Adam step on its momentum."""
        anchor = sum(
            (
                parameter.sum() * 0.0
                for parameter in self.flow.parameters()
                if parameter.requires_grad
            ),
            torch.zeros((), dtype=total.dtype, device=total.device),
        )
        return torch.full_like(total, math.nan) + anchor

    def state_dicts(self) -> dict[str, dict[str, Any]]:
        """Option-object states by ``"{loss}.{option}"``, tensors cloned."""
        return {
            f"{term.name}.{key}": {
                name: value.clone() if isinstance(value, torch.Tensor) else value
                for name, value in obj.state_dict().items()
            }
            for term in self.terms
            for key, obj in term.state.items()
        }

    def load_state_dicts(self, states: dict[str, dict[str, Any]]) -> None:
        """Restore option-object states saved by :meth:`state_dicts`."""
        for term in self.terms:
            for key, obj in term.state.items():
                obj.load_state_dict(states[f"{term.name}.{key}"])
