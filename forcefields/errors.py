"""Typed errors raised on bad input.

Every error carries a one-line message that names the offending file, line or
field. The ``molgen`` command prints it without a traceback and exits with
status 2.
"""

from __future__ import annotations

__all__ = [
    "MolgenError",
    "InputFileError",
    "MissingParameterError",
    "ShapeMismatchError",
    "NonFiniteCoordinatesError",
    "ConfigError",
    "UnknownNameError",
    "TooFewSamplesError",
]


class MolgenError(Exception):
    """Base class of every error molgen raises on bad input."""


class InputFileError(MolgenError):
    """A file is missing, unreadable, truncated or malformed."""


class MissingParameterError(MolgenError):
    """A force-field term has no matching parameter in the parameter files."""


class ShapeMismatchError(MolgenError):
    """Coordinates do not match the topology (atom count or dimensions)."""


class NonFiniteCoordinatesError(MolgenError):
    """Coordinates contain NaN or infinite values."""


class ConfigError(MolgenError):
    """A configuration value has the wrong type, range or an unknown key."""


class UnknownNameError(MolgenError):
    """A name (system, loss, term, ...) is not one molgen knows."""


class TooFewSamplesError(MolgenError):
    """A sample set is too small for an estimator (e.g. after decorrelation)."""
