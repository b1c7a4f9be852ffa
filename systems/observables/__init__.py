"""Observables: pure functions of coordinates, of angles derived from them, or of labels.

- Of coordinates ``(B, N, 3)`` in nm: :func:`dihedral`, :func:`signed_volume`,
  :func:`butane_dihedral`, :func:`phi_psi`.
- Of angles in radians (any shape): :func:`butane_modes` (the C-C-C-C dihedral),
  :func:`dialanine_states` (φ and ψ), :func:`minor_mode` (φ).
- Of integer mode labels: :func:`mode_fractions`.

Every function takes numpy arrays or torch tensors and returns the same kind.
Angles are in radians.
"""

from systems.observables.butane import (
    BUTANE_MODE_BOUNDARIES,
    BUTANE_MODES,
    butane_dihedral,
    butane_modes,
)
from systems.observables.dialanine import (
    ALPHA_R_PSI_RANGE,
    DIALANINE_STATES,
    SEAM_PHI,
    dialanine_states,
    minor_mode,
    phi_psi,
)
from systems.observables.geometry import dihedral, signed_volume
from systems.observables.populations import mode_fractions

__all__ = [
    "ALPHA_R_PSI_RANGE",
    "BUTANE_MODE_BOUNDARIES",
    "BUTANE_MODES",
    "DIALANINE_STATES",
    "SEAM_PHI",
    "butane_dihedral",
    "butane_modes",
    "dialanine_states",
    "dihedral",
    "minor_mode",
    "mode_fractions",
    "phi_psi",
    "signed_volume",
]
