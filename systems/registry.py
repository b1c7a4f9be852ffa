"""``systems.load(name)``: everything molgen needs to know about a system.

Built-in names: ``butane``, ``dialanine`` (CHARMM molecules, 300 K by default)
and ``double_well_medium``, ``double_well_wide``, ``double_well_narrow``,
``double_well_2d`` (dimensionless toys, β = 1). A directory holding one ``.psf``,
one or more ``.prm`` and one ``.pdb`` is a system too (``systems.load(path)``;
on the command line, pass the path where a system name goes), and
:func:`register` adds a name for it. A directory's parameter files are read as CHARMM
reads a toppar list: the ``.prm``/``.par`` files in name order, then the ``.str`` stream
files in name order; a parameter given twice takes the later file's value (so name an
override file to sort after the file it overrides, or use :func:`register`, which reads
its files in the order given).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from forcefields.devices import resolve_device
from forcefields.errors import (
    ConfigError,
    InputFileError,
    NonFiniteCoordinatesError,
    UnknownNameError,
)
from forcefields.units import beta_from_temperature
from systems.psf_bonds import hydrogen_parents, read_psf_bonds

__all__ = ["System", "load", "register", "SYSTEM_NAMES"]

DEFAULT_TEMPERATURE = 300.0


@dataclass(frozen=True)
class System:
    """A system to sample.

    Attributes:
        name: its name.
        kind: ``"molecule"`` (coordinates ``(B, N, 3)`` nm, energies kJ/mol) or
            ``"toy"`` (points ``(B, D)``, dimensionless energies).
        temperature: K for molecules; ``None`` for toys.
        beta: 1/(k_B T) in mol/kJ for molecules; the inverse temperature of a toy.
        psf, prm, pdb: CHARMM files (molecules).
        topology: mdtraj topology for trajectories and observables (molecules).
        positions: ``(N, 3)`` minimised coordinates in nm (molecules).
        heavy_atoms, hydrogens: atom indices; hydrogen_parents: the heavy atom each
            hydrogen is bonded to, aligned with ``hydrogens``.
        mode_names: names of the conformational modes, indexed by :meth:`modes`.
        observables: named functions of coordinates (radians for angles).
    """

    name: str
    kind: str
    beta: float
    temperature: float | None = None
    psf: Path | None = None
    prm: tuple[Path, ...] = ()
    pdb: Path | None = None
    topology: Any = None
    positions: np.ndarray | None = None
    heavy_atoms: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    hydrogens: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    hydrogen_parents: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    mode_names: tuple[str, ...] = ()
    mode_function: Callable | None = None
    observables: Mapping[str, Callable] = field(default_factory=dict)
    toy_energy: torch.nn.Module | None = None

    @property
    def n_atoms(self) -> int:
        """Number of atoms (molecules) or 0 (toys)."""
        return 0 if self.positions is None else len(self.positions)

    @property
    def dimension(self) -> int:
        """Flattened dimension a flow sees: 3N, or D for a toy."""
        return 3 * self.n_atoms if self.kind == "molecule" else self.toy_energy.dim

    def modes(self, x) -> Any:
        """Integer mode labels ``(B,)`` of coordinates ``x``, named by ``mode_names``, in the
        array type of ``x`` (a tensor for a tensor, NumPy for NumPy).

        Raises:
            ConfigError: the system defines no modes (a directory or registered system).
        """
        if self.mode_function is None:
            raise ConfigError(
                f"system {self.name!r}: no mode labels defined (only built-in systems have modes)"
            )
        return self.mode_function(x)

    def energy(
        self,
        dtype: torch.dtype = torch.float64,
        clip: Mapping[str, float | None] | str | None = None,
        align: Mapping[str, Any] | None = None,
        device: torch.device | str = "cpu",
        prm: Sequence[Path] | None = None,
    ) -> torch.nn.Module:
        """The potential: ``(B, N, 3)`` nm → ``(B,)`` kJ/mol, or ``(B, D)`` → ``(B,)`` for a toy.

        Arguments:
            dtype, clip, device: see :func:`forcefields.load`.
            align: alignment options; ``reference`` defaults to the minimised positions.
            prm: other parameter files for the same topology (a force-field variant).
        """
        if self.kind == "toy":
            if clip is not None or align is not None or prm is not None:
                raise UnknownNameError(f"{self.name}: clip, align and prm apply to molecules only")
            return self.toy_energy.to(device=resolve_device(device), dtype=dtype)
        import forcefields

        if align is not None and "reference" not in align:
            align = {**align, "reference": self.positions}
        parameters = list(prm) if prm is not None else list(self.prm)
        return forcefields.load(
            self.psf, parameters, dtype=dtype, clip=clip, align=align, device=device
        )


def _molecule(
    name, psf, prm, pdb, topology_file, temperature, mode_names, mode_function, observables
):
    for path in (psf, *prm, pdb, topology_file):
        if not Path(path).is_file():
            raise InputFileError(f"{path}: file of system {name!r} not found")
    bonds = read_psf_bonds(Path(psf), name)
    structure = _read_pdb(pdb, name, standard_names=False)
    topology = _read_pdb(topology_file, name).topology
    positions = structure.xyz[0].astype(np.float64)
    if not np.isfinite(positions).all():
        atoms = np.flatnonzero(~np.isfinite(positions).all(axis=1)) + 1
        raise NonFiniteCoordinatesError(
            f"{pdb}: NaN or infinite coordinates of atom(s) {atoms.tolist()} of system {name!r}"
        )
    for path, count in ((pdb, structure.n_atoms), (topology_file, topology.n_atoms)):
        if count != bonds.n_atoms:
            raise InputFileError(
                f"{path}: {count} atoms, but the psf {psf} of system {name!r} has {bonds.n_atoms}"
            )
    _check_atom_order(
        pdb,
        [atom.name for atom in structure.topology.atoms],
        [str(atom_name) for atom_name in bonds.atom_names],
        f"the psf {psf}",
        name,
        "name",
    )
    _check_atom_order(
        topology_file,
        [atom.element.symbol for atom in topology.atoms],
        [atom.element.symbol for atom in structure.topology.atoms],
        str(pdb),
        name,
        "element",
    )
    if topology.n_bonds == 0:
        for first, second in bonds.bonds.tolist():
            topology.add_bond(topology.atom(first), topology.atom(second))
    elements = np.array([atom.element.symbol for atom in topology.atoms])
    hydrogens = np.flatnonzero(elements == "H")
    heavy_atoms = np.flatnonzero(elements != "H")
    return System(
        name=name,
        kind="molecule",
        temperature=temperature,
        beta=beta_from_temperature(temperature),
        psf=Path(psf),
        prm=tuple(Path(p) for p in prm),
        pdb=Path(pdb),
        topology=topology,
        positions=positions,
        heavy_atoms=heavy_atoms,
        hydrogens=hydrogens,
        hydrogen_parents=hydrogen_parents(bonds, hydrogens, heavy_atoms, name),
        mode_names=mode_names,
        mode_function=mode_function,
        observables=observables,
    )


def _read_pdb(path: Path, name: str, standard_names: bool = True):
    """The ``mdtraj.Trajectory`` of pdb ``path`` (first model at least), or an
    :class:`InputFileError` naming it."""
    import contextlib
    import io

    import mdtraj

    from systems.trajectories import MAX_REASON_LENGTH

    try:
        with contextlib.redirect_stderr(io.StringIO()):
            structure = mdtraj.load_pdb(str(path), standard_names=standard_names)
    except Exception as error:  # mdtraj raises many unrelated types on bad input
        reason = " ".join(str(error).split())[:MAX_REASON_LENGTH] or type(error).__name__
        raise InputFileError(
            f"{path}: pdb of system {name!r} cannot be read by mdtraj ({reason})"
        ) from error
    if structure.n_frames == 0 or structure.n_atoms == 0:
        raise InputFileError(f"{path}: pdb of system {name!r} holds no atoms")
    return structure


def _check_atom_order(
    path: Path, found: list[str], expected: list[str], source: str, name: str, what: str
) -> None:
    """Raise :class:`InputFileError` at the first atom of ``path`` whose ``what`` (atom
    name, element) differs from atom ``i`` of ``source``."""
    for index, (value, wanted) in enumerate(zip(found, expected, strict=True)):
        if value != wanted:
            raise InputFileError(
                f"{path}: atom {index + 1} has {what} {value!r}, but atom {index + 1} of "
                f"{source} of system {name!r} has {wanted!r} (same atoms in the same order "
                "expected)"
            )


def _butane(temperature: float, variant: str = "default") -> System:
    from systems.files import charmm_files
    from systems.observables import BUTANE_MODES, butane_dihedral, butane_modes

    files = charmm_files("butane", variant)
    carbons = (3, 6, 9, 13)

    def dihedral(x):
        return butane_dihedral(x, carbons)

    return _molecule(
        "butane",
        files.psf,
        [files.prm],
        files.pdb,
        files.pdb,
        temperature,
        tuple(BUTANE_MODES),
        lambda x: butane_modes(dihedral(x)),
        {"dihedral": dihedral},
    )


def _dialanine(temperature: float, variant: str = "default") -> System:
    from systems.files import charmm_files
    from systems.observables import DIALANINE_STATES, dialanine_states, phi_psi

    files = charmm_files("dialanine", variant)
    phi_atoms, psi_atoms = (4, 6, 8, 14), (6, 8, 14, 16)

    def angles(x):
        return phi_psi(x, phi_atoms, psi_atoms)

    return _molecule(
        "dialanine",
        files.psf,
        [files.prm],
        files.pdb,
        files.pdb.with_name("dialanine_3res.pdb"),
        temperature,
        tuple(DIALANINE_STATES),
        lambda x: dialanine_states(*angles(x)),
        {"phi": lambda x: angles(x)[0], "psi": lambda x: angles(x)[1]},
    )


def _check_default_variant(name: str, variant: str) -> None:
    """Raise :class:`UnknownNameError` unless ``variant`` is ``"default"``, the only variant
    of a double well or of a directory or registered system."""
    if variant != "default":
        raise UnknownNameError(f"system {name!r}: unknown variant {variant!r}; known: ['default']")


def _checked_temperature(name: str, temperature: Any) -> float:
    """``temperature`` as a float; :class:`ConfigError` naming ``name`` unless finite and > 0."""
    try:
        value = float(temperature)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(temperature, bool) or not (math.isfinite(value) and value > 0):
        raise ConfigError(
            f"system {name!r}: temperature must be a finite number > 0, got {temperature!r}"
        )
    return value


def _double_well(name: str):
    def build(temperature: float | None = None, variant: str = "default") -> System:
        from systems.double_well import DOUBLE_WELLS, mode_labels

        _check_default_variant(name, variant)
        beta = 1.0 if temperature is None else 1.0 / temperature
        energy = DOUBLE_WELLS[name](beta)
        return System(
            name=name,
            kind="toy",
            beta=beta,
            mode_names=("major", "minor"),
            mode_function=mode_labels,
            observables={"x0": lambda x: x[..., 0]},
            toy_energy=energy,
        )

    return build


TOY_NAMES = ("double_well_medium", "double_well_wide", "double_well_narrow", "double_well_2d")
"""The built-in toys, whose ``temperature`` is a factor on β = 1 (default: none)."""

_BUILDERS: dict[str, Callable[..., System]] = {
    "butane": _butane,
    "dialanine": _dialanine,
    **{name: _double_well(name) for name in TOY_NAMES},
}

SYSTEM_NAMES = tuple(_BUILDERS)


def _from_directory(directory: Path, temperature: float, variant: str) -> System:
    _check_default_variant(directory.name, variant)
    psf = sorted(directory.glob("*.psf"))
    prm = [
        *sorted([*directory.glob("*.prm"), *directory.glob("*.par")]),
        *sorted(directory.glob("*.str")),
    ]
    pdb = sorted(directory.glob("*.pdb"))
    if len(psf) != 1 or not prm or len(pdb) != 1:
        raise InputFileError(
            f"{directory}: a system directory needs one .psf, one or more .prm and one .pdb "
            f"(found {len(psf)}, {len(prm)}, {len(pdb)})"
        )
    return _molecule(directory.name, psf[0], prm, pdb[0], pdb[0], temperature, (), None, {})


def register(
    name: str, psf: str | Path, prm: str | Path | Sequence[str | Path], pdb: str | Path
) -> None:
    """Make ``systems.load(name)`` return the molecule in these CHARMM files.

    Raises:
        ConfigError: ``name`` is a built-in system's (:data:`SYSTEM_NAMES`).
    """
    if name in SYSTEM_NAMES:
        raise ConfigError(f"systems.register: {name!r} is a built-in system; choose another name")
    prm_list = [prm] if isinstance(prm, str | Path) else list(prm)

    def build(temperature: float = DEFAULT_TEMPERATURE, variant: str = "default") -> System:
        _check_default_variant(name, variant)
        return _molecule(name, psf, prm_list, pdb, pdb, temperature, (), None, {})

    _BUILDERS[name] = build


def load(name: str | Path, temperature: float | None = None, variant: str = "default") -> System:
    """The :class:`System` called ``name`` (or in directory ``name``).

    Arguments:
        name: a built-in or registered name, or a directory of CHARMM files.
        temperature: K for molecules (default 300); for a toy, the temperature
            factor (2 means β = 1/2). Finite and > 0.
        variant: force-field variant of a built-in molecule (butane: ``lipid``);
            ``"default"`` for every other system.

    Raises:
        UnknownNameError: not a known name nor a directory, or an unknown variant.
        ConfigError: a temperature that is not a finite number > 0.
    """
    if temperature is not None:
        temperature = _checked_temperature(str(name), temperature)
    if str(name) in _BUILDERS:
        builder = _BUILDERS[str(name)]
        if str(name) in TOY_NAMES:
            return builder(temperature, variant)
        return builder(DEFAULT_TEMPERATURE if temperature is None else temperature, variant)
    if Path(name).is_dir():
        return _from_directory(
            Path(name), DEFAULT_TEMPERATURE if temperature is None else temperature, variant
        )
    raise UnknownNameError(
        f"system {name!r}: unknown (known: {', '.join(_BUILDERS)}, or a directory)"
    )
