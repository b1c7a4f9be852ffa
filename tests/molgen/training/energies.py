"""Test energies: a double well whose energy is spoiled on one chosen call."""

from __future__ import annotations

import torch

from systems.double_well import DoubleWell, is_minor_mode
from systems.registry import System


class SpoiledOnCall(torch.nn.Module):
    """The 12-D medium double well, except that call number ``bad_call`` (1-based) returns
    the energy times ``factor`` for the whole batch: NaN, as an energy evaluated outside
    its domain would, or a huge finite factor, as a clash without clipping would."""

    def __init__(self, bad_call: int, factor: float = float("nan")):
        super().__init__()
        self.well = DoubleWell(12, 1.0)
        self.dim = self.well.dim
        self.bad_call = bad_call
        self.factor = factor
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        energy = self.well(x)
        return energy * self.factor if self.calls == self.bad_call else energy


def spoiled_on_call_system(bad_call: int, factor: float = float("nan")) -> System:
    """A toy system with :class:`SpoiledOnCall` as its energy."""
    return System(
        name="double_well_spoiled_once",
        kind="toy",
        beta=1.0,
        mode_names=("major", "minor"),
        mode_function=lambda x: is_minor_mode(torch.as_tensor(x)).long(),
        toy_energy=SpoiledOnCall(bad_call, factor),
    )
