"""A copy of a built-in molecule's CHARMM files with every dihedral force constant scaled.

Writes ``OUT/<name>.psf``, ``OUT/<name>.pdb`` and ``OUT/<name>.prm``, the prm's
``DIHEDRALS`` section with each Kchi multiplied by ``--factor`` (multiplicities and phases
kept), for force-field perturbation tests far from the original parameters:

    python -m benchmarks.scaled_dihedrals --system butane --factor 5 --out DIR
    molgen free-energy runs/butane/samples.dcd.npz --system butane \
        --states trans gauche=gauche+,gauche- --perturb DIR/butane.psf --prm DIR/butane.prm
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from forcefields.atomic_files import write_text_atomic
from forcefields.errors import InputFileError
from systems.files import charmm_files

SECTIONS = {"BONDS", "ANGLES", "DIHEDRALS", "IMPROPER", "IMPROPERS", "CMAP", "NONBONDED"}
"""Keywords that open a section of a CHARMM parameter file (``NBFIX``, ``HBOND`` and
``END`` close the last one)."""
ENDS = {"NBFIX", "HBOND", "END"}


def scaled_dihedrals(text: str, factor: float) -> tuple[str, int]:
    """``text`` of a CHARMM prm with each dihedral's Kchi times ``factor``, and the number
    of dihedral lines scaled."""
    lines, section, scaled = [], None, 0
    for line in text.splitlines(keepends=True):
        keyword = line.split(maxsplit=1)[0].upper() if line.strip() else ""
        if keyword in SECTIONS or keyword in ENDS:
            section = keyword
        fields = line.split("!")[0].split()
        if section == "DIHEDRALS" and len(fields) >= 7 and keyword != "DIHEDRALS":
            kchi = float(fields[4])
            comment = line[len(line.split("!")[0]) :].rstrip("\n")
            rebuilt = "  ".join([*fields[:4], f"{kchi * factor:.6f}", *fields[5:]])
            line = f"{rebuilt}{'  ' + comment if comment else ''}\n"
            scaled += 1
        lines.append(line)
    return "".join(lines), scaled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--system", default="butane", help="built-in molecule")
    parser.add_argument("--factor", type=float, required=True, help="multiplier of every Kchi")
    parser.add_argument("--out", type=Path, required=True, help="folder for the three files")
    args = parser.parse_args(argv)
    files = charmm_files(args.system)
    prm = files.prm
    text, scaled = scaled_dihedrals(Path(prm).read_text(), args.factor)
    if scaled == 0:
        raise InputFileError(f"{prm}: no dihedral parameters found to scale")
    args.out.mkdir(parents=True, exist_ok=True)
    name = args.system
    shutil.copy(files.psf, args.out / f"{name}.psf")
    shutil.copy(files.pdb, args.out / f"{name}.pdb")
    write_text_atomic(args.out / f"{name}.prm", text)
    print(f"{scaled} dihedral lines scaled by {args.factor:g}: {args.out / f'{name}.prm'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
