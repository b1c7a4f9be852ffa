"""Boltzmann generators: flows, losses, training, sampling and estimation.

``molgen.Generator`` (:mod:`molgen.boltzmann_generator`) builds, samples and saves a
generator for a system in code; ``molgen.losses.<name>`` are the thesis's losses. The
subpackages load on first use, so ``import molgen`` alone stays light.
"""

import importlib

__all__ = ["Generator"]

SUBPACKAGES = ("estimate", "flows", "generators", "jko", "losses", "plots", "sampling", "training")
"""Subpackages reachable as attributes after a bare ``import molgen``."""


def __getattr__(name: str):
    if name == "Generator":
        from molgen.boltzmann_generator import Generator

        return Generator
    if name in SUBPACKAGES:
        return importlib.import_module(f"molgen.{name}")
    raise AttributeError(f"module 'molgen' has no attribute {name!r}")
