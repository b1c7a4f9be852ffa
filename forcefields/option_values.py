"""Checking numeric options given from Python, where numpy scalars are as good as floats."""

from __future__ import annotations

import numbers
from typing import Any

__all__ = ["is_real_number"]


def is_real_number(value: Any) -> bool:
    """Whether ``value`` is a real number: an ``int``, a ``float`` or a numpy integer or
    floating scalar (``np.float32(1e4)``), but not a ``bool``."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
