"""Strict mapping of plain YAML data onto (nested) dataclasses.

Every error is a :class:`~forcefields.errors.ConfigError` whose message starts with the
dotted path of the offending field (``phases[1].steps: ...``).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar

from forcefields.errors import ConfigError

__all__ = ["from_mapping", "to_mapping"]

T = TypeVar("T")


def from_mapping(cls: type[T], data: Any, path: str = "") -> T:
    """Build dataclass ``cls`` from a mapping, checking keys and types recursively.

    Unknown keys, missing required keys and values of the wrong type raise
    :class:`ConfigError` naming the field. Integers are accepted where a float is
    expected; booleans are never accepted as numbers.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{path or 'config'}: expected a mapping, got {_kind(data)}")
    hints = typing.get_type_hints(cls)
    fields = {field.name: field for field in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields), key=str)  # YAML keys may be null or numbers
    if unknown:
        raise ConfigError(
            f"{_join(path, str(unknown[0]))}: unknown key (known: {', '.join(sorted(fields))})"
        )
    values = {}
    for name, field in fields.items():
        if name in data:
            values[name] = _convert(hints[name], data[name], _join(path, name))
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{_join(path, name)}: required key missing")
    return cls(**values)


def to_mapping(instance: Any) -> Any:
    """Plain dicts/lists/scalars of a dataclass instance (for ``config.yaml``)."""
    if dataclasses.is_dataclass(instance):
        return {
            field.name: to_mapping(getattr(instance, field.name))
            for field in dataclasses.fields(instance)
        }
    if isinstance(instance, dict):
        return {key: to_mapping(value) for key, value in instance.items()}
    if isinstance(instance, list | tuple):
        return [to_mapping(value) for value in instance]
    return instance


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _convert(hint: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    arguments = typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in arguments:
            return None
        options = [argument for argument in arguments if argument is not type(None)]
        errors = []
        for option in options:
            try:
                return _convert(option, value, path)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{path}: unexpected {_kind(value)}")
    if dataclasses.is_dataclass(hint):
        return from_mapping(hint, value, path)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{path}: expected a list, got {_kind(value)}")
        return [_convert(arguments[0], item, f"{path}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping, got {_kind(value)}")
        key_type, value_type = arguments
        return {
            _convert(key_type, key, path): _convert(value_type, item, _join(path, str(key)))
            for key, item in value.items()
        }
    return _scalar(hint, value, path)


def _scalar(hint: Any, value: Any, path: str) -> Any:
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    else:
        raise TypeError(f"{path}: unsupported type hint {hint!r}")
    raise ConfigError(f"{path}: expected {hint.__name__}, got {_kind(value)} ({value!r})")
