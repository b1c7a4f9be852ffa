"""The three CHARMM parameter sets molgen ships and how each is built."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from systems.charmm_build.geometry import StartGeometry
from systems.files import CharmmFiles, charmm_files

__all__ = ["DihedralWindow", "MoleculeBuild", "BUILDS"]


@dataclass(frozen=True)
class DihedralWindow:
    """A dihedral (four psf names) the minimised structure must have within
    ``half_width`` degrees of ``centre`` (periodic)."""

    atoms: tuple[str, str, str, str]
    label: str
    centre: float
    half_width: float


@dataclass(frozen=True)
class MoleculeBuild:
    """One parameter set: where its files go and what they are built from.

    Arguments:
        name, variant: the keys ``systems.files.charmm_files`` takes.
        files: where psf, prm and pdb go (``systems.files.charmm_files``).
        residue: ffxml residue template (also the psf residue name).
        title: one-line description written into the psf/prm titles.
        extra_ffxml: ffxml files loaded after ``charmm36.xml``.
        geometry: how to build and minimise ``files.pdb``; ``None`` when another build
            writes it.
        windows: conformer the minimised structure must be in.
        observable_residues: ``(residue, [(psf name, new name)])`` for a multi-residue
            copy of the pdb, written next to it with suffix ``_3res``; empty for none.
    """

    name: str
    variant: str
    files: CharmmFiles
    residue: str
    title: str
    extra_ffxml: tuple[Path, ...]
    geometry: StartGeometry | None
    windows: tuple[DihedralWindow, ...] = ()
    observable_residues: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    def observables_pdb(self) -> Path:
        """The multi-residue copy of the pdb (written only if ``observable_residues``)."""
        return self.files.pdb.with_name(f"{self.files.pdb.stem}_3res.pdb")


_LIPID_RESIDUE_FFXML = charmm_files("butane", "lipid").psf.parent / "butane_lipid.xml"

_BUTANE_GEOMETRY = StartGeometry(
    smiles="CCCC",
    heavy_names=("C1", "C2", "C3", "C4"),
    hydrogen_names={
        "C1": ("H11", "H12", "H13"),
        "C2": ("H21", "H22"),
        "C3": ("H31", "H32"),
        "C4": ("H41", "H42", "H43"),
    },
    dihedrals=((("C1", "C2", "C3", "C4"), 180.0),),
)

_DIALANINE_GEOMETRY = StartGeometry(
    smiles="CC(=O)N[C@@H](C)C(=O)NC",
    heavy_names=("CL", "CLP", "OL", "NL", "CA", "CB", "CRP", "OR", "NR", "CR"),
    hydrogen_names={
        "CL": ("HL1", "HL2", "HL3"),
        "NL": ("HL",),
        "CA": ("HA",),
        "CB": ("HB1", "HB2", "HB3"),
        "NR": ("HR",),
        "CR": ("HR1", "HR2", "HR3"),
    },
    dihedrals=(
        (("CL", "CLP", "NL", "CA"), 180.0),
        (("CLP", "NL", "CA", "CRP"), -83.0),
        (("NL", "CA", "CRP", "NR"), 73.0),
        (("CA", "CRP", "NR", "CR"), 180.0),
    ),
)

_ACE_ALA_NME = (
    (
        "ACE",
        (("CL", "CH3"), ("HL1", "H1"), ("HL2", "H2"), ("HL3", "H3"), ("CLP", "C"), ("OL", "O")),
    ),
    (
        "ALA",
        (
            ("NL", "N"),
            ("HL", "H"),
            ("CA", "CA"),
            ("HA", "HA"),
            ("CB", "CB"),
            ("HB1", "HB1"),
            ("HB2", "HB2"),
            ("HB3", "HB3"),
            ("CRP", "C"),
            ("OR", "O"),
        ),
    ),
    ("NME", (("NR", "N"), ("HR", "H"), ("CR", "C"), ("HR1", "H1"), ("HR2", "H2"), ("HR3", "H3"))),
)

BUILDS = (
    MoleculeBuild(
        name="butane",
        variant="default",
        files=charmm_files("butane"),
        residue="BUTA",
        title="n-butane, CHARMM36 CGenFF residue BUTA (types CG331/CG321/HGA3/HGA2)",
        extra_ffxml=(),
        geometry=_BUTANE_GEOMETRY,
        windows=(DihedralWindow(("C1", "C2", "C3", "C4"), "C1-C2-C3-C4", 180.0, 10.0),),
    ),
    MoleculeBuild(
        name="butane",
        variant="lipid",
        files=charmm_files("butane", "lipid"),
        residue="BUTL",
        title="n-butane, CHARMM36 lipid alkane types (CTL3/CTL2/HAL3/HAL2), BUTA atom order",
        extra_ffxml=(_LIPID_RESIDUE_FFXML,),
        geometry=None,
    ),
    MoleculeBuild(
        name="dialanine",
        variant="default",
        files=charmm_files("dialanine"),
        residue="ALAD",
        title="alanine dipeptide, CHARMM36 protein model compound ALAD (with CMAP)",
        extra_ffxml=(),
        geometry=_DIALANINE_GEOMETRY,
        windows=(
            DihedralWindow(("CLP", "NL", "CA", "CRP"), "phi", -83.0, 30.0),
            DihedralWindow(("NL", "CA", "CRP", "NR"), "psi", 73.0, 40.0),
        ),
        observable_residues=_ACE_ALA_NME,
    ),
)
