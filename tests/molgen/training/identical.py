"""Bitwise comparison of saved model states, for the resume and multi-process tests."""

from __future__ import annotations

import torch


def assert_identical_tensors(
    expected: dict[str, torch.Tensor], actual: dict[str, torch.Tensor]
) -> None:
    """Each tensor of ``expected`` equals ``actual``'s of the same name, bit for bit."""
    for name, tensor in expected.items():
        assert torch.equal(tensor, actual[name]), name
