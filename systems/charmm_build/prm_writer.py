"""Write a CHARMM parameter (prm) file: ATOMS, BONDS, ANGLES (with Urey–Bradley),
DIHEDRALS, IMPROPER, CMAP and NONBONDED (with 1-4 columns).

Every entry names explicit atom types (no wildcards), sorted, so files are reproducible
and diff cleanly. Numbers are the shortest decimals that reproduce the ffxml values to
1e-10 relative, which recovers the decimals of the original CHARMM files.
"""

from __future__ import annotations

from collections.abc import Sequence

from systems.charmm_build.charmm_model import CharmmParameters, CmapParameter
from systems.charmm_build.number_text import decimal_text

__all__ = ["prm_text"]

_NONBONDED_HEADER = (
    "NONBONDED nbxmod  5 atom cdiel fshift vatom vdistance vfswitch -\n"
    "cutnb 14.0 ctofnb 12.0 ctonnb 10.0 eps 1.0 e14fac 1.0 wmin 1.5"
)
_CMAP_VALUES_PER_LINE = 5


def prm_text(parameters: CharmmParameters, title: Sequence[str]) -> str:
    """The prm file of ``parameters`` with ``title`` lines (written after ``*``)."""
    blocks = [
        "\n".join([*(f"* {line}".rstrip() for line in title), "*"]),
        _block("ATOMS", _mass_lines(parameters)),
        _block(
            "BONDS", _bond_lines(parameters), "!V(bond) = Kb(b - b0)**2; Kb: kcal/mol/A**2, b0: A"
        ),
        _block(
            "ANGLES",
            _angle_lines(parameters),
            "!V(angle) = Ktheta(theta - theta0)**2 + Kub(S - S0)**2;"
            " Ktheta: kcal/mol/rad**2, theta0: deg, Kub: kcal/mol/A**2, S0: A",
        ),
        _block(
            "DIHEDRALS",
            _dihedral_lines(parameters),
            "!V(dihedral) = Kchi(1 + cos(n(chi) - delta)); Kchi: kcal/mol, delta: deg",
        ),
        _block(
            "IMPROPER",
            _improper_lines(parameters),
            "!V(improper) = Kpsi(psi - psi0)**2; Kpsi: kcal/mol/rad**2, psi0: deg",
        ),
        _block("CMAP", _cmap_lines(parameters)),
        _block(
            _NONBONDED_HEADER,
            _nonbonded_lines(parameters),
            "!V(Lennard-Jones) = Eps,i,j[(Rmin,i,j/ri,j)**12 - 2(Rmin,i,j/ri,j)**6];"
            " Eps,i,j = sqrt(eps,i * eps,j), Rmin,i,j = Rmin/2,i + Rmin/2,j\n"
            "!atom  ignored  epsilon  Rmin/2  ignored  eps,1-4  Rmin/2,1-4",
        ),
        "END",
    ]
    return "\n\n".join(blocks) + "\n"


def _block(header: str, lines: list[str], comment: str = "") -> str:
    return "\n".join([header, *([comment] if comment else []), *lines])


def _number(value: float, min_decimals: int) -> str:
    return f"{decimal_text(value, min_decimals):>10s}"


def _types(types: Sequence[str]) -> str:
    return " ".join(f"{name:<6s}" for name in types)


def _mass_lines(parameters: CharmmParameters) -> list[str]:
    return [
        f"MASS  -1  {name:<6s} {_number(mass.mass, 5)} {mass.element}"
        for name, mass in sorted(parameters.masses.items())
    ]


def _bond_lines(parameters: CharmmParameters) -> list[str]:
    return [
        f"{_types(types)} {_number(bond.kb, 2)} {_number(bond.b0, 4)}"
        for types, bond in sorted(parameters.bonds.items())
    ]


def _angle_lines(parameters: CharmmParameters) -> list[str]:
    lines = []
    for types, angle in sorted(parameters.angles.items()):
        line = f"{_types(types)} {_number(angle.ktheta, 2)} {_number(angle.theta0, 2)}"
        if angle.kub is not None:
            line += f" {_number(angle.kub, 2)} {_number(angle.s0, 5)}"
        lines.append(line)
    return lines


def _dihedral_lines(parameters: CharmmParameters) -> list[str]:
    return [
        f"{_types(types)} {_number(term.kchi, 4)} {term.multiplicity:3d} {_number(term.delta, 2)}"
        for types, terms in sorted(parameters.dihedrals.items())
        for term in terms
    ]


def _improper_lines(parameters: CharmmParameters) -> list[str]:
    return [
        f"{_types(types)} {_number(improper.kpsi, 4)} {0:3d} {_number(improper.psi0, 2)}"
        for types, improper in sorted(parameters.impropers.items())
    ]


def _cmap_lines(parameters: CharmmParameters) -> list[str]:
    lines = []
    for types, grid in sorted(parameters.cmaps.items()):
        lines += ["", f"{_types(types)} {grid.resolution:4d}"]
        lines += _cmap_grid_lines(grid)
    return lines


def _cmap_grid_lines(grid: CmapParameter) -> list[str]:
    """One ``!phi`` comment and its psi row (5 numbers a line) per phi grid value."""
    step = 360.0 / grid.resolution
    lines = []
    for row in range(grid.resolution):
        values = grid.values[row * grid.resolution : (row + 1) * grid.resolution]
        lines += ["", f"!phi = {decimal_text(-180.0 + row * step, 1)}"]
        lines += [
            " ".join(_number(value, 6) for value in values[start : start + _CMAP_VALUES_PER_LINE])
            for start in range(0, len(values), _CMAP_VALUES_PER_LINE)
        ]
    return lines


def _nonbonded_lines(parameters: CharmmParameters) -> list[str]:
    lines = []
    for name, lj in sorted(parameters.lennard_jones.items()):
        line = f"{name:<6s} 0.0 {_number(-lj.epsilon, 4)} {_number(lj.rmin_half, 4)}"
        if lj.epsilon14 is not None:
            line += f" 0.0 {_number(-lj.epsilon14, 4)} {_number(lj.rmin_half14, 4)}"
        lines.append(line)
    return lines
