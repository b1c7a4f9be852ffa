"""Reference data by parallel tempering, and its statistics with error bars.

Sampling, storing and analysing are separate steps with files in between:

- :func:`run_openmm_reference`: OpenMM parallel tempering (openmmtools) of a CHARMM
  molecule, resumable from its NetCDF storage;
- :func:`run_metropolis_reference`: Metropolis–Hastings parallel tempering of a torch
  energy (:class:`MetropolisTempering`), resumable from ``checkpoint.pt``;
- :func:`run_langevin_reference`: torch Langevin replica exchange of a CHARMM molecule over
  many independent ladders in one batch (:class:`LangevinTempering`), error bars from the
  spread between ladders, resumable from ``checkpoint.pt``;
- :func:`reference_stats`: ``stats.json`` from a :class:`TemperingRecord` (statistical
  inefficiency, effective sample count, mode populations and free-energy differences with
  standard errors, MBAR over the temperature ladder).

Example:
    >>> from systems.reference import MetropolisSettings, geometric_ladder
    >>> from systems.reference import reference_target, run_metropolis_reference
    >>> target = reference_target("double_well_medium")
    >>> settings = MetropolisSettings(temperatures=geometric_ladder(1.0, 4.0, 4))
    >>> import tempfile
    >>> out = tempfile.mkdtemp()
    >>> stats = run_metropolis_reference(out, target.name, target.energy, target.initial,
    ...     target.labels, target.mode_names, target.observables, settings, n_iterations=1000)
    >>> stats["populations"]["minor"]
    {'mean': 0.22..., 'sem': 0.00...}
"""

from systems.reference.quiet import quiet

with quiet("pymbar"):
    import pymbar  # noqa: F401  (logs a timeseries caveat and a missing-JAX notice on import)

from systems.reference.hydrogen_minimisation import minimise_hydrogens  # noqa: E402
from systems.reference.ladder import geometric_ladder  # noqa: E402
from systems.reference.langevin_reference import (  # noqa: E402
    LangevinSettings,
    run_langevin_reference,
)
from systems.reference.langevin_tempering import LangevinTempering  # noqa: E402
from systems.reference.metropolis_tempering import MetropolisTempering  # noqa: E402
from systems.reference.molecule_reference import run_openmm_reference  # noqa: E402
from systems.reference.openmm_tempering import TemperingSettings  # noqa: E402
from systems.reference.record import TemperingRecord, load_record  # noqa: E402
from systems.reference.stats import reference_stats  # noqa: E402
from systems.reference.targets import reference_target  # noqa: E402
from systems.reference.torch_reference import (  # noqa: E402
    MetropolisSettings,
    run_metropolis_reference,
)

__all__ = [
    "minimise_hydrogens",
    "LangevinSettings",
    "LangevinTempering",
    "MetropolisSettings",
    "MetropolisTempering",
    "TemperingRecord",
    "TemperingSettings",
    "geometric_ladder",
    "load_record",
    "reference_stats",
    "reference_target",
    "run_langevin_reference",
    "run_metropolis_reference",
    "run_openmm_reference",
]
