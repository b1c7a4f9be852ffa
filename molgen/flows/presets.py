"""The coupling stacks of the thesis (§3.4)."""

from __future__ import annotations

from molgen.flows.composite import Composite
from molgen.flows.coupling import AdditiveCoupling, MultiplicativeCoupling

__all__ = ["coupling_stack", "double_well_stack", "molecule_stack"]


def coupling_stack(dim: int, repeats: int, width: int, context_dim: int = 0) -> Composite:
    """``repeats`` x [mult first, add first, mult second, add second] coupling blocks.

    Each block's conditioner is ``Linear -> CELU -> Linear`` of hidden size ``width``
    reading the other half (and the context vector, if ``context_dim > 0``). The stack
    starts as the identity map.
    """
    blocks = []
    for _ in range(repeats):
        for half in ("first", "second"):
            blocks.append(MultiplicativeCoupling(dim, half, width, context_dim))
            blocks.append(AdditiveCoupling(dim, half, width, context_dim))
    return Composite(*blocks)


def double_well_stack(
    dim: int, context_dim: int = 0, width: int = 64, repeats: int = 8
) -> Composite:
    """Double-well stack of thesis §3.4: 8 x 4 coupling blocks, width 64."""
    return coupling_stack(dim, repeats, width, context_dim)


def molecule_stack(
    dim: int, context_dim: int = 0, width: int = 256, repeats: int = 24
) -> Composite:
    """Butane / dialanine stack of thesis §3.4: 24 x 4 coupling blocks, width 256."""
    return coupling_stack(dim, repeats, width, context_dim)
