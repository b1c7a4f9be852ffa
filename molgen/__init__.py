"""Boltzmann generators: flows, losses, training, sampling and estimation.

``molgen.Generator`` (:mod:`molgen.boltzmann_generator`) builds, samples and saves a
generator for a system in code; ``molgen.losses.<name>`` are the thesis's losses.
"""

__all__ = ["Generator"]


def __getattr__(name: str):
    if name == "Generator":
        from molgen.boltzmann_generator import Generator

        return Generator
    raise AttributeError(f"module 'molgen' has no attribute {name!r}")
