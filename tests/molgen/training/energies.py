"""Test energies: a double well whose energy is undefined (NaN) on one chosen call."""

from __future__ import annotations

import torch

from systems.double_well import DoubleWell, is_minor_mode
from systems.registry import System


class NanOnCall(torch.nn.Module):
    """The 12-D medium double well, except that call number ``bad_call`` (1-based) returns
    NaN for the whole batch, as an energy evaluated outside its domain would."""

    def __init__(self, bad_call: int):
        super().__init__()
        self.well = DoubleWell(12, 1.0)
        self.dim = self.well.dim
        self.bad_call = bad_call
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        energy = self.well(x)
        return torch.full_like(energy, float("nan")) if self.calls == self.bad_call else energy


def nan_on_call_system(bad_call: int) -> System:
    """A toy system with :class:`NanOnCall` as its energy."""
    return System(
        name="double_well_nan_once",
        kind="toy",
        beta=1.0,
        mode_names=("major", "minor"),
        mode_function=lambda x: is_minor_mode(torch.as_tensor(x)).long(),
        toy_energy=NanOnCall(bad_call),
    )
