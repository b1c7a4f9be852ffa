"""benchmarks.scaled_dihedrals: parmed reads the written prm with every dihedral's force
constant scaled and every other parameter unchanged."""

from __future__ import annotations

import parmed
import pytest

from benchmarks.scaled_dihedrals import main
from systems.files import charmm_files


def _parameters(prm):
    return parmed.charmm.CharmmParameterSet(str(prm))


def test_every_dihedral_force_constant_is_scaled_and_nothing_else(tmp_path):
    assert main(["--system", "butane", "--factor", "5", "--out", str(tmp_path)]) == 0
    original = _parameters(charmm_files("butane").prm)
    scaled = _parameters(tmp_path / "butane.prm")
    assert set(scaled.dihedral_types) == set(original.dihedral_types)
    for key, terms in original.dihedral_types.items():
        for before, after in zip(terms, scaled.dihedral_types[key], strict=True):
            assert after.phi_k == pytest.approx(5 * before.phi_k, rel=1e-6)
            assert (after.per, after.phase) == (before.per, before.phase)
    for kind in ("bond_types", "angle_types", "improper_types", "atom_types"):
        assert set(getattr(scaled, kind)) == set(getattr(original, kind))
    for key, bond in original.bond_types.items():
        assert (scaled.bond_types[key].k, scaled.bond_types[key].req) == (bond.k, bond.req)
    assert (tmp_path / "butane.psf").read_bytes() == charmm_files("butane").psf.read_bytes()
