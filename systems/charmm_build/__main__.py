"""``python -m systems.charmm_build``: rebuild every CHARMM psf/prm/pdb and PROVENANCE.md."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from systems.charmm_build.build import build_all
from systems.charmm_build.units import kcal

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Build all parameter sets and print one line per set (``--help``: say so, build
    nothing)."""
    argparse.ArgumentParser(
        prog="python -m systems.charmm_build",
        description=(
            "Rebuild every shipped CHARMM system (psf, prm, pdb and PROVENANCE.md under "
            "systems/<name>/) from the offline force-field sources, overwriting the files "
            "in place; prints each set's energy at its minimised structure."
        ),
    ).parse_args(argv)
    for record in build_all():
        files = record.build.files
        print(
            f"{record.build.name}/{record.build.variant}: {files.psf} {files.prm} "
            f"E({files.pdb.name}) = {record.energy:.4f} kJ/mol ({kcal(record.energy):.4f} kcal/mol)"
        )


if __name__ == "__main__":
    main()
