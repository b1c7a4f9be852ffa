"""The ``PROVENANCE.md`` written next to each psf/prm pair."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openmm
import rdkit

from systems.charmm_build.charmm_model import CharmmModel
from systems.charmm_build.ffxml_source import CHARMM36_FFXML, ffxml_origin, sha256_of
from systems.charmm_build.molecules import MoleculeBuild
from systems.charmm_build.units import kcal

__all__ = ["REBUILD_COMMAND", "BuildRecord", "provenance_text"]

REBUILD_COMMAND = "OMP_NUM_THREADS=1 python -m systems.charmm_build"
_REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class BuildRecord:
    """What one build produced: the model, the pdb's energy (kJ/mol) under this
    parameter set, and the checked dihedrals ``(label, degrees)`` of the pdb."""

    build: MoleculeBuild
    model: CharmmModel
    energy: float
    dihedrals: tuple[tuple[str, float], ...]


def provenance_text(record: BuildRecord) -> str:
    """Markdown: sources with versions and hashes, contents, method, rebuild command."""
    build, topology = record.build, record.model.topology
    files = build.files
    lines = [
        f"# {files.psf.stem} ({build.variant}): provenance",
        "",
        f"{build.title}.",
        "",
        "Generated files; do not edit by hand. Rebuild all CHARMM files from the repository root:",
        "",
        f"    {REBUILD_COMMAND}",
        "",
        "The build is deterministic: rebuilding with the versions below gives identical bytes.",
        "",
        "## Sources",
        "",
        f"- `openmm/app/data/charmm36.xml` of OpenMM {openmm.__version__}"
        f" ({ffxml_origin(CHARMM36_FFXML)}), sha256 `{sha256_of(CHARMM36_FFXML)}`.",
        *(
            f"- `{_relative(path)}` (extra residue template), sha256 `{sha256_of(path)}`."
            for path in build.extra_ffxml
        ),
        f"- Residue template `{build.residue}`" + _coordinate_source(build),
        "",
        "## Files",
        "",
        f"- `{files.psf.name}`: {len(topology.atoms)} atoms, {len(topology.bonds)} bonds,"
        f" {len(topology.angles)} angles ({_urey_bradley_count(record.model)} with Urey-Bradley),"
        f" {len(topology.dihedrals)} dihedrals, {len(topology.impropers)} impropers,"
        f" {len(topology.cmaps)} CMAP terms.",
        f"- `{files.prm.name}`: the parameters of exactly these atom types.",
        f"- `{_relative(files.pdb)}`: {_pdb_description(build)}",
        *_observable_lines(build),
        "",
        f"Potential energy of `{files.pdb.name}` with this psf/prm (OpenMM Reference platform,"
        f" no cutoff): {record.energy:.4f} kJ/mol = {kcal(record.energy):.4f} kcal/mol.",
        *(f"Dihedral {label}: {value:.2f} degrees." for label, value in record.dihedrals),
        "",
        "## How the files are built",
        "",
        "`systems/charmm_build` builds the OpenMM System of the residue from the ffxml and",
        "writes what it holds as CHARMM files, keyed by atom type, in CHARMM units:",
        "",
        "- Bonds, angles, impropers and CMAP are read off the System's forces; the",
        "  System's 1-3 harmonic pairs become Urey-Bradley columns of ANGLES.",
        "- The psf lists every dihedral of the bond graph (CHARMM derives its 1-4 pairs",
        "  from it); dihedrals whose ffxml constant is zero, which the System omits, are",
        "  written with their zero-constant ffxml entry.",
        "- Impropers keep the atom order of the System's improper terms.",
        "- NONBONDED takes epsilon, Rmin/2 and the special 1-4 values from the ffxml",
        "  `<LennardJonesForce>` block (nbxmod 5, e14fac 1.0).",
        "- Numbers are the shortest decimals within 1e-10 relative of the ffxml values.",
        "- The psf is one segment `MOL`, one residue, one charge group, no donors or acceptors.",
        "",
        "`tests/systems/test_charmm_files.py` checks that `openmm.app.CharmmPsfFile` with",
        "this psf/prm gives the ffxml System's energy and forces term by term.",
    ]
    return "\n".join(lines) + "\n"


def _relative(path: Path) -> str:
    return path.relative_to(_REPOSITORY_ROOT).as_posix()


def _coordinate_source(build: MoleculeBuild) -> str:
    if build.geometry is None:
        return "."
    return f"; starting coordinates from RDKit {rdkit.__version__} (numpy {np.__version__})."


def _urey_bradley_count(model: CharmmModel) -> int:
    topology, angles = model.topology, model.parameters.angles
    keys = (min(topology.types(a), topology.types(a)[::-1]) for a in topology.angles)
    return sum(1 for key in keys if angles[key].kub is not None)


def _pdb_description(build: MoleculeBuild) -> str:
    if build.geometry is None:
        return "coordinates shared with the default variant (atom names and order match)."
    set_dihedrals = ", ".join(
        f"{'-'.join(atoms)} = {value:g}" for atoms, value in build.geometry.dihedrals
    )
    return (
        f"RDKit embedding of `{build.geometry.smiles}` (ETKDGv3, seed {build.geometry.seed}),"
        f" dihedrals set to {set_dihedrals} degrees, then minimised with this psf/prm"
        " (OpenMM LocalEnergyMinimizer, Reference platform); coordinates rounded to the PDB's"
        " 0.001 A."
    )


def _observable_lines(build: MoleculeBuild) -> Sequence[str]:
    if not build.observable_residues:
        return []
    residues = "/".join(name for name, _ in build.observable_residues)
    path = _relative(build.observables_pdb())
    return [
        f"- `{path}`: the same coordinates and atom order as {residues} residues with PDB atom",
        "  names, for backbone observables (`mdtraj.compute_phi`/`compute_psi`).",
    ]
