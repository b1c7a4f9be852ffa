"""Normalizing-flow layers and generators (thesis §3).

Every layer follows the nflows transform protocol, in the generative direction:
``forward(z, context=None) -> (x, logabsdet)`` and ``inverse(x, context=None) ->
(z, logabsdet)``, with ``z``, ``x`` shaped ``(B, D)`` and ``logabsdet`` shaped ``(B,)``
(the log-determinant of the map actually applied). :class:`Flow` turns a transform into
a distribution with ``sample``, ``log_prob`` and ``energy_of_generation``.
"""

from molgen.flows.bias import Bias
from molgen.flows.composite import Composite
from molgen.flows.conditioner import Conditioner
from molgen.flows.coupling import AdditiveCoupling, Coupling, MultiplicativeCoupling
from molgen.flows.diagonal import Diagonal
from molgen.flows.flow import Flow
from molgen.flows.householder import Householder
from molgen.flows.presets import coupling_stack, double_well_stack, molecule_stack
from molgen.flows.spline import SplineCoupling
from molgen.flows.standardize import Standardize

__all__ = [
    "AdditiveCoupling",
    "Bias",
    "Composite",
    "Conditioner",
    "Coupling",
    "Diagonal",
    "Flow",
    "Householder",
    "MultiplicativeCoupling",
    "SplineCoupling",
    "Standardize",
    "coupling_stack",
    "double_well_stack",
    "molecule_stack",
]
