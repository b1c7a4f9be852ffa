"""A force-field variant must list the system's atoms in the same order with the same
bonds; its atom types may differ (the butane ``lipid`` variant)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import systems
from forcefields.charmm_reader import read_charmm
from forcefields.errors import ShapeMismatchError
from molgen.estimate.variant_workflow import _check_same_atoms
from systems.files import charmm_files


@pytest.fixture(scope="module")
def butane():
    return systems.load("butane")


@pytest.fixture(scope="module")
def lipid():
    files = charmm_files("butane", "lipid")
    return files.psf, read_charmm(files.psf, files.prm)


def _default_files():
    files = charmm_files("butane")
    return files.psf, files.prm


def test_the_lipid_variant_has_the_same_atoms(butane, lipid):
    psf, parameters = lipid
    assert not np.array_equal(parameters.atom_types, read_charmm(*_default_files()).atom_types)
    _check_same_atoms(psf, parameters, butane)


def test_atoms_in_another_order_are_refused(butane, lipid):
    psf, parameters = lipid
    order = np.arange(parameters.n_atoms)
    carbon, hydrogen = (
        int(np.flatnonzero(parameters.atomic_numbers == 6)[0]),
        int(np.flatnonzero(parameters.atomic_numbers == 1)[0]),
    )
    order[[carbon, hydrogen]] = order[[hydrogen, carbon]]
    swapped = dataclasses.replace(
        parameters,
        atomic_numbers=parameters.atomic_numbers[order],
        atom_names=parameters.atom_names[order],
    )
    first = min(carbon, hydrogen) + 1
    with pytest.raises(ShapeMismatchError, match=rf"atom {first} .*same atoms in the same order"):
        _check_same_atoms(psf, swapped, butane)


def test_another_bond_graph_is_refused(butane, lipid):
    psf, parameters = lipid
    rewired = dataclasses.replace(parameters, bond_indices=parameters.bond_indices[1:])
    first, second = sorted(int(i) + 1 for i in parameters.bond_indices[0])
    with pytest.raises(
        ShapeMismatchError, match=rf"bond {first}-{second} is missing in the variant"
    ):
        _check_same_atoms(psf, rewired, butane)
