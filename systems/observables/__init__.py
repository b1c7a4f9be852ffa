"""Observables: pure functions of coordinate arrays ``(B, N, 3)`` in nm.

Every function takes numpy arrays or torch tensors and returns the same kind.
Angles are in radians.
"""

from systems.observables.butane import BUTANE_MODES, butane_dihedral, butane_modes
from systems.observables.dialanine import (
    ALPHA_R_PSI_RANGE,
    DIALANINE_STATES,
    dialanine_states,
    minor_mode,
    phi_psi,
)
from systems.observables.geometry import dihedral, signed_volume
from systems.observables.populations import mode_fractions

__all__ = [
    "ALPHA_R_PSI_RANGE",
    "BUTANE_MODES",
    "DIALANINE_STATES",
    "butane_dihedral",
    "butane_modes",
    "dialanine_states",
    "dihedral",
    "minor_mode",
    "mode_fractions",
    "phi_psi",
    "signed_volume",
]
