"""YAML reading that takes ``1e-3`` for a number, and writing that reads back the same.

PyYAML follows YAML 1.1, whose float pattern needs a dot in the mantissa, so ``lr: 1e-3``
comes back as the string ``"1e-3"``; YAML 1.2 (and most users) read it as 0.001. The
loader here resolves every decimal float spelling, ``1e-3``, ``5E+2``, ``.5``, ``1.0e-3``,
``-.inf``, ``.nan``, as a float and is otherwise PyYAML's safe loader. The dumper here
quotes a string with such a spelling (``mixture_key: '1e3'``), which PyYAML's would write
bare, so that :func:`safe_load` of :func:`safe_dump` gives the data back unchanged. A
mapping that gives a key twice is refused (PyYAML would keep the last value silently).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

__all__ = ["safe_dump", "safe_load"]

_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)
    |[-+]?(?:[0-9][0-9_]*)\.[0-9_]*
    |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.VERBOSE,
)


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 decimal floats."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:float"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def _mapping_without_duplicates(loader: _Loader, node: yaml.MappingNode) -> dict:
    """A mapping, refusing a key given twice (PyYAML keeps the last one silently)."""
    first_marks: dict[Any, yaml.Mark] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            first = first_marks.setdefault(key, key_node.start_mark)
        except TypeError:
            continue  # an unhashable key: PyYAML's own constructor refuses it
        if first is not key_node.start_mark:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"key {key!r} given twice (first on line {first.line + 1})",
                key_node.start_mark,
            )
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def safe_load(text: str) -> Any:
    """The data in the YAML document ``text`` (``yaml.safe_load`` with ``1e-3`` a float)."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper that quotes every string :class:`_Loader` would read as a float."""


_Dumper.yaml_implicit_resolvers = {
    first: list(resolvers) for first, resolvers in _Loader.yaml_implicit_resolvers.items()
}


def safe_dump(data: Any) -> str:
    """``data`` as a YAML document, keys in their order, that :func:`safe_load` reads back."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False)
