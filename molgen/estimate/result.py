"""The value every estimator returns: a number with its standard error, or a refusal."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Estimate", "untrusted"]


@dataclass(frozen=True)
class Estimate:
    """An estimate with its standard error, or a typed refusal to give one.

    Attributes:
        value: the estimate (``nan`` when ``trusted`` is false).
        stderr: its standard error, same unit (``nan`` when ``trusted`` is false).
        trusted: false when the samples cannot support a number (e.g. the effective
            sample size is below the threshold); ``value`` is then withheld.
        reason: why the estimate is not trusted; empty when it is.

    Example:
        >>> Estimate(1.5, 0.1).as_dict()
        {'value': 1.5, 'stderr': 0.1, 'trusted': True}
    """

    value: float
    stderr: float
    trusted: bool = True
    reason: str = ""

    def as_dict(self) -> dict:
        """JSON-ready ``{"value", "stderr", "trusted"[, "reason"]}`` (``None`` for ``nan``)."""
        payload = {
            "value": _json_number(self.value),
            "stderr": _json_number(self.stderr),
            "trusted": self.trusted,
        }
        if self.reason:
            payload["reason"] = self.reason
        return payload

    def __str__(self) -> str:
        if not self.trusted:
            return f"untrusted ({self.reason})"
        return f"{self.value:.4g} ± {self.stderr:.2g}"


def untrusted(reason: str) -> Estimate:
    """An :class:`Estimate` that withholds its value, with ``reason``."""
    return Estimate(math.nan, math.nan, trusted=False, reason=reason)


def _json_number(number: float) -> float | None:
    return float(number) if math.isfinite(number) else None
