"""The systems molgen samples: CHARMM molecules, double wells, their observables."""

from systems.registry import SYSTEM_NAMES, System, load, register

__all__ = ["System", "load", "register", "SYSTEM_NAMES"]
