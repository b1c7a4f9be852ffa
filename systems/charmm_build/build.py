"""Build the psf, prm, pdb and PROVENANCE.md of each parameter set in ``molecules.BUILDS``."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import openmm
import openmm.app as app
import openmm.unit as unit

from systems.charmm_build.atomic_write import write_text_atomic
from systems.charmm_build.charmm_model import CharmmModel
from systems.charmm_build.ffxml_source import CHARMM36_FFXML, FfxmlData
from systems.charmm_build.geometry import dihedral_degrees, start_positions
from systems.charmm_build.minimise import minimised_positions, potential_energy, psf_system
from systems.charmm_build.model_from_ffxml import model_from_ffxml
from systems.charmm_build.molecules import BUILDS, MoleculeBuild
from systems.charmm_build.pdb_writer import pdb_text, split_residues
from systems.charmm_build.prm_writer import prm_text
from systems.charmm_build.provenance import BuildRecord, provenance_text
from systems.charmm_build.psf_writer import psf_text

__all__ = ["SEGMENT", "file_title", "coordinate_files", "build_molecule", "build_all"]

SEGMENT = "MOL"


def file_title(build: MoleculeBuild) -> list[str]:
    """The title lines of the psf and prm of ``build``."""
    return [
        build.title,
        "from OpenMM's CHARMM36 ffxml (charmm36.xml) by systems.charmm_build; see PROVENANCE.md",
    ]


def build_molecule(build: MoleculeBuild) -> BuildRecord:
    """Write the files of one parameter set and return what was built.

    Every text is produced and checked (the minimised dihedrals lie in their windows)
    before any file is written, so a failed build leaves the old files as they were.

    Raises:
        RuntimeError: a minimised dihedral is outside its window; nothing is written.
    """
    ffxml_paths = (CHARMM36_FFXML, *build.extra_ffxml)
    forcefield = app.ForceField(*(str(path) for path in ffxml_paths))
    model = model_from_ffxml(FfxmlData(ffxml_paths), forcefield, build.residue, SEGMENT)
    title = file_title(build)
    texts = {
        build.files.psf: psf_text(model.topology, title),
        build.files.prm: prm_text(model.parameters, title),
    }
    with tempfile.TemporaryDirectory() as folder:
        staged = {
            path: Path(folder) / f"{number}{path.suffix}" for number, path in enumerate(texts)
        }
        for path, text in texts.items():
            staged[path].write_text(text, encoding="ascii")
        system = psf_system(staged[build.files.psf], staged[build.files.prm])
        if build.geometry is not None:
            texts.update(coordinate_files(build, model, system, staged[build.files.psf]))
        positions = _pdb_positions(texts.get(build.files.pdb), build.files.pdb)
        record = BuildRecord(
            build,
            model,
            potential_energy(system, positions),
            _window_values(build, model, positions),
        )
    texts[build.files.psf.parent / "PROVENANCE.md"] = provenance_text(record)
    for path, text in texts.items():
        write_text_atomic(path, text)
    return record


def _pdb_positions(text: str | None, path: Path) -> np.ndarray:
    """Coordinates ``(N, 3)`` in nm of the pdb ``text``, or of the file ``path`` if ``None``."""
    pdb = app.PDBFile(io.StringIO(text) if text is not None else str(path))
    return pdb.getPositions(asNumpy=True).value_in_unit(unit.nanometer)


def build_all() -> list[BuildRecord]:
    """Build every parameter set, in order (the lipid variant reuses butane's pdb)."""
    return [build_molecule(build) for build in BUILDS]


def coordinate_files(
    build: MoleculeBuild, model: CharmmModel, system: openmm.System, psf: Path | None = None
) -> dict[Path, str]:
    """Text of the minimised pdb (and its multi-residue copy) of a build with a geometry.

    ``psf`` is the psf file whose topology the pdb takes (default ``build.files.psf``).
    """
    names = [atom.name for atom in model.topology.atoms]
    start = start_positions(build.geometry, names)
    minimised = minimised_positions(system, start)
    topology = app.CharmmPsfFile(str(psf or build.files.psf)).topology
    files = {build.files.pdb: pdb_text(topology, minimised)}
    if build.observable_residues:
        observables = split_residues(topology, build.observable_residues)
        files[build.observables_pdb()] = pdb_text(observables, minimised)
    return files


def _window_values(
    build: MoleculeBuild, model: CharmmModel, positions: np.ndarray
) -> tuple[tuple[str, float], ...]:
    """The windowed dihedrals of ``positions``; raises if one is outside its window."""
    index = {atom.name: position for position, atom in enumerate(model.topology.atoms)}
    values = []
    for window in build.windows:
        value = dihedral_degrees(positions, [index[name] for name in window.atoms])
        offset = (value - window.centre + 180.0) % 360.0 - 180.0
        if abs(offset) > window.half_width:
            raise RuntimeError(
                f"{build.name}: minimised {window.label} = {value:.1f} deg is outside "
                f"{window.centre:g} +- {window.half_width:g}"
            )
        values.append((window.label, value))
    return tuple(values)
