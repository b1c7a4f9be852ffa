"""What differs between two plain-data mappings (a saved configuration and the current
one), worded for the messages that refuse a resume: ``"key SAVED there, CURRENT here"``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["MISSING", "describe_differences", "differing_keys"]

MISSING = "(missing)"
"""Shown for a key one of the two mappings lacks."""


def differing_keys(before: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """The keys, sorted, whose values differ: a key missing on one side differs (even from
    ``None``), and so do equal numbers of another type (``1`` and ``1.0``)."""
    return [
        key
        for key in sorted(set(before) | set(now))
        if key not in before
        or key not in now
        or before[key] != now[key]
        or type(before[key]) is not type(now[key])
    ]


def describe_differences(
    before: Mapping[str, Any], now: Mapping[str, Any], prefix: str = "", nested: bool = False
) -> list[str]:
    """``"{prefix}key BEFORE there, NOW here"`` for each of :func:`differing_keys`; with
    ``nested``, mappings on both sides are compared field by field (``prefix`` + ``key.``)."""
    described = []
    for key in differing_keys(before, now):
        saved, current = before.get(key, MISSING), now.get(key, MISSING)
        if nested and isinstance(saved, Mapping) and isinstance(current, Mapping):
            described += describe_differences(saved, current, f"{prefix}{key}.", nested=True)
        else:
            described.append(f"{prefix}{key} {saved!r} there, {current!r} here")
    return described
