"""Invalid YAML configs for ``molgen train`` and ``molgen jko``, made by editing valid ones.

A :class:`Mutation` sets (or deletes) one key, addressed by a dotted path with list
indices (``phases.0.steps``); ``field`` is the text the error message must contain.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DELETE",
    "JKO_MUTATIONS",
    "NOT_YAML",
    "Mutation",
    "TRAIN_MUTATIONS",
    "TRAIN_RUNTIME_MUTATIONS",
    "mutated",
]

DELETE = object()


@dataclass(frozen=True)
class Mutation:
    """Set ``path`` to ``value`` (or delete it with :data:`DELETE`); ``field`` must be named."""

    path: str
    value: Any
    field: str

    @property
    def label(self) -> str:
        shown = "<deleted>" if self.value is DELETE else repr(self.value)
        return f"{self.path}={shown}"


def mutated(config: dict[str, Any], mutation: Mutation) -> dict[str, Any]:
    """A deep copy of ``config`` with ``mutation`` applied."""
    result = copy.deepcopy(config)
    *parents, last = mutation.path.split(".")
    node = result
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if mutation.value is DELETE:
        del node[last]
    else:
        node[int(last) if isinstance(node, list) else last] = mutation.value
    return result


def _many(path: str, field: str, *values: Any) -> list[Mutation]:
    return [Mutation(path, value, field) for value in values]


TRAIN_MUTATIONS: list[Mutation] = [
    *_many("system", "system", 5, None, ["butane"]),
    *_many("seed", "seed", "zero", -1, 1.5, True),
    *_many("device", "device", "gpu", 3),
    *_many("dtype", "dtype", "float16", 32),
    *_many("energy_dtype", "energy_dtype", "half"),
    *_many("flow", "flow", "big", [1, 2]),
    *_many("flow.preset", "flow.preset", "huge", 1),
    *_many("flow.width", "flow.width", -8, 0, "wide", 2.5),
    *_many("flow.repeats", "flow.repeats", 0, -1),
    *_many("flow.standardize", "flow.standardize", "yes", 1),
    *_many("flow.layers", "flow.layers", 4),
    *_many("metrics.every", "metrics.every", 0, -3, "often"),
    *_many("metrics.samples", "metrics.samples", -1),
    *_many("checkpoints.every", "checkpoints.every", -5, 0),
    *_many("checkpoints.keep", "checkpoints.keep", 0),
    *_many("checkpoints", "checkpoints", [], "daily"),
    *_many("phases", "phases", [], {}, "pretrain", None),
    *_many("phases.0.steps", "phases[0].steps", -1, 0, "ten", 1.5, None),
    *_many("phases.0.batch_size", "phases[0].batch_size", -64, 0, "all"),
    *_many("phases.0.lr", "phases[0].lr", -1.0, 0.0, "fast", float("nan"), float("inf")),
    *_many("phases.0.losses", "phases[0].losses", {}, ["kl_z_dd"], "kl_z_dd"),
    *_many("phases.0.losses.kl_z_dd", "phases[0].losses.kl_z_dd", -1.0, "one", float("nan")),
    *_many("phases.0.losses.kl_z_dd", "phases[0].losses", 0.0),
    *_many("phases.0.losses.nope", "phases[0].losses.nope", 1.0),
    *_many("phases.0.name", "phases[0].name", "../evil", "a/b", "", 3),
    *_many("phases.1.name", "phases[1].name", "pretrain"),
    *_many("phases.0.temperature_factor", "phases[0].temperature_factor", 0, -2.0),
    *_many("phases.0.schedule.kind", "phases[0].schedule.kind", "linear"),
    *_many("phases.0.schedule.warmup_steps", "phases[0].schedule.warmup_steps", -1),
    *_many("phases.0.schedule.final_factor", "phases[0].schedule.final_factor", 2.0),
    *_many("phases.0.schedule.gamma", "phases[0].schedule.gamma", 0.0, 1.5),
    *_many("phases.0.data.source", "phases[0].data.source", "web"),
    *_many("phases.0.data.size", "phases[0].data.size", -10, 0, "many"),
    *_many("phases.0.data.path", "phases[0].data.path", 5),
    *_many("phases.0.data.format", "phases[0].data.format", "npz"),
    *_many("phases.0.data", "phases[0].data", None, "exact"),
    *_many("phases.1.grad_clip", "phases[1].grad_clip", -1.0, 0.0),
    *_many("phases.1.loss_options.kl_z_dd", "phases[1].loss_options.kl_z_dd", {"keep": 1}),
    *_many("phases.0.epochs", "phases[0].epochs", 3),
    *_many("epochs", "epochs", 10),
    Mutation("system", DELETE, "system"),
    Mutation("phases", DELETE, "phases"),
    Mutation("phases.0.name", DELETE, "phases[0].name"),
    Mutation("phases.0.steps", DELETE, "phases[0].steps"),
    Mutation("phases.0.losses", DELETE, "phases[0].losses"),
]
"""Mutations :func:`molgen.training.load_config` rejects."""

TRAIN_RUNTIME_MUTATIONS: list[Mutation] = [
    *[Mutation("system", name, name) for name in ("nope", "Butane", "double_well")],
    *_many("phases.1.loss_options.pl2_cb.bogus", "bogus", 1),
    *_many("phases.1.clip", "clip", "default"),
]
"""Mutations that pass the config check and fail when training starts."""

JKO_MUTATIONS: list[Mutation] = [
    *_many("preset", "preset", "nope", 3),
    *_many("dim", "dim", 0, -2, "two", 2.5),
    *_many("seed", "seed", "zero"),
    *_many("dtype", "dtype", "float16"),
    *_many("evaluation_samples", "evaluation_samples", 0, -10),
    *_many("network", "network", "ficnn"),
    *_many("network.kind", "network.kind", "resnet"),
    *_many("network.hidden", "network.hidden", [], [0], "64", [-4]),
    *_many("network.activation", "network.activation", "relu"),
    *_many("network.depth", "network.depth", 3),
    *_many("flow.step_size", "flow.step_size", 0.0, -0.05, "small"),
    *_many("flow.steps", "flow.steps", 0, -1, 2.5),
    *_many("flow.learning_rate", "flow.learning_rate", 0.0),
    *_many("flow.cloud_size", "flow.cloud_size", 0),
    *_many("flow.batch_size", "flow.batch_size", -1),
    *_many("flow.mode", "flow.mode", "adaptive"),
    *_many("logdet.backend", "logdet.backend", "magic"),
    *_many("logdet.probes", "logdet.probes", 0),
    *_many("baseline.time_step", "baseline.time_step", 0.0),
    *_many("problem.temperature", "problem.temperature", -1.0),
    *_many("unknown", "unknown", 1),
]
"""Mutations of ``configs/jko/ou.yaml`` that ``molgen jko`` rejects."""

NOT_YAML: dict[str, bytes] = {
    "unclosed list": b"phases: [unclosed\n",
    "bad indent": b"system: butane\n  phases:\n - a\n",
    "colons": b": : :\n",
    "braces": b"{{{\n",
    "binary": bytes(range(256)),
    "empty": b"",
    "list": b"- a\n- b\n",
    "string": b"just a string\n",
    "number": b"42\n",
    "tab indent": b"system:\n\t- butane\n",
    "duplicate anchors": b"a: *missing\n",
}
"""Texts that are not YAML, or not a mapping."""
