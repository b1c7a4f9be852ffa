"""systems.load gives consistent System records."""

import numpy as np
import pytest
import torch

import systems
from forcefields.errors import InputFileError, UnknownNameError


@pytest.mark.parametrize("name", ["butane", "dialanine"])
def test_molecules(name):
    system = systems.load(name)
    assert system.kind == "molecule" and system.temperature == 300.0
    assert system.beta == pytest.approx(1 / (0.008314462618 * 300))
    assert len(system.heavy_atoms) + len(system.hydrogens) == system.n_atoms
    # every hydrogen's parent is a heavy atom bonded to it (C-H, N-H bonds ≈ 0.1 nm)
    bond = np.linalg.norm(
        system.positions[system.hydrogens] - system.positions[system.hydrogen_parents], axis=1
    )
    assert np.all((bond > 0.09) & (bond < 0.12))
    assert set(system.hydrogen_parents) <= set(system.heavy_atoms)
    x = torch.as_tensor(system.positions)[None]
    assert system.energy()(x).shape == (1,)
    assert int(system.modes(x)[0]) < len(system.mode_names)


def test_minimised_structures_sit_in_the_expected_modes():
    butane = systems.load("butane")
    dialanine = systems.load("dialanine")
    assert butane.mode_names[int(butane.modes(butane.positions[None])[0])] == "trans"
    assert dialanine.mode_names[int(dialanine.modes(dialanine.positions[None])[0])] == "C7eq"


def test_toys_and_errors(tmp_path):
    toy = systems.load("double_well_wide")
    assert toy.kind == "toy" and toy.dimension == 12
    with pytest.raises(UnknownNameError, match="propane"):
        systems.load("propane")
    (tmp_path / "a.psf").write_text("")
    with pytest.raises(InputFileError, match="one .psf"):
        systems.load(tmp_path)


def test_register_and_directory_systems(tmp_path):
    butane = systems.load("butane")
    for path in (butane.psf, butane.prm[0], butane.pdb):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    from_directory = systems.load(tmp_path)
    systems.register("my_butane", butane.psf, butane.prm, butane.pdb)
    registered = systems.load("my_butane")
    x = torch.as_tensor(butane.positions)[None]
    assert torch.equal(from_directory.energy()(x), butane.energy()(x))
    assert torch.equal(registered.energy()(x), butane.energy()(x))
