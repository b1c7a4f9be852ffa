"""Building the generator a config describes."""

from __future__ import annotations

from dataclasses import replace

import torch

from forcefields.errors import ConfigError
from molgen.flows import Composite, Flow, Standardize, double_well_stack, molecule_stack
from molgen.training.config import FlowConfig

__all__ = ["build_flow", "fit_standardization", "standardization_layer"]

_PRESETS = {"double_well": double_well_stack, "molecule": molecule_stack}


def build_flow(config: FlowConfig, dim: int, dtype: torch.dtype = torch.float32, system=None):
    """The generator of ``config`` on ``dim`` features (parameters drawn from the global RNG).

    With ``standardize`` the stack is followed by a :class:`Standardize` layer holding the
    identity map until :func:`fit_standardization` sets it. With ``hydrogens`` (molecules)
    the flow covers the heavy atoms of ``system`` and a hydrogen stage places the
    hydrogens (:class:`~molgen.generators.MolecularGenerator`).
    """
    if config.coordinates == "internal":
        return _internal_generator(config, system, dtype)
    if config.hydrogens is not None:
        return _molecular_generator(config, system, dtype)
    sizes = {}
    if config.width is not None:
        sizes["width"] = config.width
    if config.repeats is not None:
        sizes["repeats"] = config.repeats
    stack = _PRESETS[config.preset](dim, **sizes)
    if config.standardize:
        identity = Standardize(torch.zeros(dim), torch.ones(dim))
        stack = Composite(stack, identity)
    return Flow(stack, dim).to(dtype)


def _molecular_generator(config: FlowConfig, system, dtype: torch.dtype):
    from molgen.generators.molecular import molecular_generator

    if system is None or system.kind != "molecule":
        raise ConfigError("flow.hydrogens: a hydrogen stage needs a molecular system")
    heavy_dim = 3 * len(system.heavy_atoms)
    heavy_flow = build_flow(replace(config, hydrogens=None), heavy_dim, dtype)
    generator = molecular_generator(
        system, heavy_flow, config.hydrogens, config.hydrogen_width, config.hydrogen_repeats
    )
    return generator.to(dtype)


def _internal_generator(config: FlowConfig, system, dtype: torch.dtype):
    from molgen.generators.internal import internal_generator
    from systems.reference.rigid_resampling import rigid_pose

    if system is None or system.kind != "molecule":
        raise ConfigError("flow.coordinates: internal coordinates need a molecular system")
    sizes = {"width": config.width or 128, "repeats": config.repeats or 4}
    generator = internal_generator(
        system,
        rigid_pose(system, config.align),
        hydrogen_width=config.hydrogen_width,
        hydrogen_repeats=config.hydrogen_repeats,
        **sizes,
    )
    return generator.to(dtype)


def standardization_layer(flow: Flow) -> Standardize | None:
    """The final :class:`Standardize` layer of a flow built by :func:`build_flow`, if any."""
    layers = getattr(flow.transform, "layers", None)
    if layers is not None and isinstance(layers[-1], Standardize):
        return layers[-1]
    return None


def fit_standardization(flow: Flow, data: torch.Tensor) -> None:
    """Set the standardisation layer to the per-feature mean and std of ``data`` ``(M, D)``.

    For a molecular generator the heavy-atom flow is standardised on the heavy atoms
    and the hydrogen stage starts at the data's mean hydrogen offsets (see the stages'
    ``start_at``).
    """
    if hasattr(flow, "fit_to_data"):
        flow.fit_to_data(data.to(flow.context_mean))
        return
    if hasattr(flow, "heavy_flow"):
        data = data.to(next(flow.parameters()))
        fit_standardization(flow.heavy_flow, flow.split(data)[0])
        flow.start_hydrogen_stage(data)
        return
    layer = standardization_layer(flow)
    if layer is None:
        return
    fitted = Standardize.fit(data.to(layer.mean))
    layer.mean.copy_(fitted.mean)
    layer.std.copy_(fitted.std)
