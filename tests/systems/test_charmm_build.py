"""``systems.charmm_build.build_molecule``: checks everything before it writes anything;
``python -m systems.charmm_build --help`` builds nothing."""

from __future__ import annotations

import dataclasses
import re

import pytest

from systems.charmm_build import __main__ as build_command
from systems.charmm_build import build as build_module
from systems.charmm_build.molecules import BUILDS, DihedralWindow
from systems.files import CharmmFiles

BUTANE = next(b for b in BUILDS if (b.name, b.variant) == ("butane", "default"))


def _into(folder, build=BUTANE, **changes):
    files = CharmmFiles(*(folder / path.name for path in build.files))
    return dataclasses.replace(build, files=files, **changes)


def test_a_failed_window_check_writes_no_file(tmp_path):
    # Butane minimises to trans (C-C-C-C near 180 degrees), never within 1 degree of 0.
    cis = DihedralWindow(("C1", "C2", "C3", "C4"), "C-C-C-C", centre=0.0, half_width=1.0)
    with pytest.raises(RuntimeError, match="outside 0 \\+- 1"):
        build_module.build_molecule(_into(tmp_path, windows=(cis,)))
    assert list(tmp_path.iterdir()) == []


def test_a_build_writes_the_shipped_files(tmp_path, monkeypatch):
    # PROVENANCE.md names paths relative to the repository; outside it, record the energy.
    monkeypatch.setattr(build_module, "provenance_text", lambda record: f"{record.energy:.4f}\n")
    record = build_module.build_molecule(_into(tmp_path))
    for path in BUTANE.files:
        assert (tmp_path / path.name).read_text() == path.read_text(), path.name
    shipped = (BUTANE.files.psf.parent / "PROVENANCE.md").read_text()
    energy = re.search(r"this psf/prm .*?: (-?[0-9.]+) kJ/mol", shipped, re.S).group(1)
    # The shipped PROVENANCE.md gives the same pdb's energy to 4 decimals.
    assert (tmp_path / "PROVENANCE.md").read_text() == f"{energy}\n"
    assert dict(record.dihedrals)


@pytest.mark.parametrize("argv", [["--help"], ["--bogus"]])
def test_help_and_unknown_arguments_rebuild_nothing(argv, monkeypatch, capsys):
    # --help used to rebuild every shipped psf/prm/pdb in place
    def refuse():
        raise AssertionError("build_all ran")

    monkeypatch.setattr(build_command, "build_all", refuse)
    with pytest.raises(SystemExit) as exit_info:
        build_command.main(argv)
    assert exit_info.value.code == (0 if argv == ["--help"] else 2)
    assert "python -m systems.charmm_build" in "".join(capsys.readouterr())
