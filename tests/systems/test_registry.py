"""systems.load gives consistent System records."""

from pathlib import Path

import numpy as np
import pytest
import torch

import systems
from forcefields.errors import (
    ConfigError,
    InputFileError,
    NonFiniteCoordinatesError,
    UnknownNameError,
)
from systems.psf_bonds import PsfBonds, hydrogen_parents


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


def _copy_butane(folder, keep_conect: bool = True):
    butane = systems.load("butane")
    folder.mkdir(exist_ok=True)
    for path in (butane.psf, butane.prm[0]):
        (folder / path.name).write_bytes(path.read_bytes())
    lines = butane.pdb.read_text().splitlines(keepends=True)
    (folder / butane.pdb.name).write_text(
        "".join(line for line in lines if keep_conect or not line.startswith("CONECT"))
    )
    return butane


def test_bonds_come_from_the_psf_when_the_pdb_has_no_conect(tmp_path):
    butane = _copy_butane(tmp_path, keep_conect=False)
    from_directory = systems.load(tmp_path)
    systems.register(
        "butane_no_conect",
        *(tmp_path / p.name for p in (butane.psf, butane.prm[0])),
        tmp_path / butane.pdb.name,
    )
    registered = systems.load("butane_no_conect")
    for system in (from_directory, registered):
        np.testing.assert_array_equal(system.hydrogens, butane.hydrogens)
        np.testing.assert_array_equal(system.hydrogen_parents, butane.hydrogen_parents)
        bonds = {frozenset((a.index, b.index)) for a, b in system.topology.bonds}
        assert bonds == {frozenset((a.index, b.index)) for a, b in butane.topology.bonds}


def test_psf_and_pdb_of_different_molecules_are_refused(tmp_path):
    _copy_butane(tmp_path)
    dialanine = systems.load("dialanine")
    (tmp_path / "butane.pdb").write_bytes(dialanine.pdb.read_bytes())
    with pytest.raises(
        InputFileError, match=r"butane\.pdb: 22 atoms.*'" + tmp_path.name + "' has 14"
    ):
        systems.load(tmp_path)


@pytest.mark.parametrize("temperature", [0, 0.0, -1.0, float("nan"), float("inf"), "hot"])
@pytest.mark.parametrize("name", ["butane", "double_well_2d"])
def test_temperature_must_be_finite_and_positive(name, temperature):
    with pytest.raises(ConfigError, match=f"system '{name}': temperature .* got {temperature!r}"):
        systems.load(name, temperature)


def test_directory_and_registered_systems_have_no_modes(tmp_path):
    butane = _copy_butane(tmp_path)
    with pytest.raises(ConfigError, match=f"system '{tmp_path.name}': no mode labels defined"):
        systems.load(tmp_path).modes(butane.positions[None])
    systems.register("modeless_butane", butane.psf, butane.prm, butane.pdb)
    with pytest.raises(ConfigError, match="system 'modeless_butane': no mode labels defined"):
        systems.load("modeless_butane").modes(butane.positions[None])


def test_an_unreadable_psf_is_named_with_its_system(tmp_path):
    _copy_butane(tmp_path)
    (tmp_path / "butane.psf").write_text("not a psf\n")
    with pytest.raises(
        InputFileError, match=rf"butane.psf: line 1: .*\(psf of system '{tmp_path.name}'\)"
    ):
        systems.load(tmp_path)


def test_a_psf_bond_to_an_undefined_atom_is_named_by_line(tmp_path):
    butane = _copy_butane(tmp_path)
    lines = butane.psf.read_text().splitlines(keepends=True)
    bond_line = next(i for i, line in enumerate(lines) if "!NBOND" in line) + 1
    first_atom = lines[bond_line].split()[0]
    assert len(first_atom) == 1  # a one-digit index keeps the line's column layout
    lines[bond_line] = lines[bond_line].replace(f" {first_atom} ", " 0 ", 1)
    (tmp_path / "butane.psf").write_text("".join(lines))
    with pytest.raises(InputFileError, match=rf"line {bond_line + 1}: !NBOND atom index 0"):
        systems.load(tmp_path)


def test_pdb_atoms_in_another_order_than_the_psf_are_refused(tmp_path):
    butane = _copy_butane(tmp_path)
    lines = butane.pdb.read_text().splitlines(keepends=True)
    atoms = [i for i, line in enumerate(lines) if line.startswith(("ATOM", "HETATM"))]
    carbons = [i for i in atoms if lines[i][12:16].strip() in ("C2", "C3")]
    first, second = (lines[i] for i in carbons)
    # swap name and coordinates, keep the serial numbers: the psf's C2 is now called C3
    lines[carbons[0]], lines[carbons[1]] = first[:12] + second[12:], second[:12] + first[12:]
    (tmp_path / "butane.pdb").write_text("".join(lines))
    position = atoms.index(carbons[0]) + 1
    with pytest.raises(
        InputFileError, match=rf"butane\.pdb: atom {position} has name 'C3'.*has 'C2'"
    ):
        systems.load(tmp_path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "cannot be read by mdtraj"),
        ("ATOM      1  C1  BUT     1       2.1x3   0.0   0.0\n", "cannot be read"),
    ],
)
def test_an_unreadable_pdb_is_an_input_error(tmp_path, content, reason):
    _copy_butane(tmp_path)
    (tmp_path / "butane.pdb").write_text(content)
    with pytest.raises(
        InputFileError, match=rf"butane\.pdb: pdb of system '{tmp_path.name}' {reason}"
    ):
        systems.load(tmp_path)


def test_a_hydrogen_without_heavy_parent_in_the_psf_is_named():
    bonds = PsfBonds(Path("h2.psf"), np.array(["C1", "H1", "H2"]), np.array([[1, 2]]))
    with pytest.raises(InputFileError, match=r"h2\.psf: hydrogen H1 \(atom 2\) of system 'h2'"):
        hydrogen_parents(bonds, np.array([1, 2]), np.array([0]), "h2")


def test_unknown_variants_are_refused_with_the_known_ones(tmp_path):
    for name in ("double_well_2d", "double_well_wide"):
        with pytest.raises(UnknownNameError, match=f"'{name}': unknown variant 'foo'.*'default'"):
            systems.load(name, variant="foo")
    _copy_butane(tmp_path)
    with pytest.raises(UnknownNameError, match="unknown variant 'lipid'.*'default'"):
        systems.load(tmp_path, variant="lipid")
    systems.register(
        "renamed_butane", tmp_path / "butane.psf", tmp_path / "butane.prm", tmp_path / "butane.pdb"
    )
    with pytest.raises(UnknownNameError, match="'renamed_butane': unknown variant 'foo'"):
        systems.load("renamed_butane", variant="foo")
    with pytest.raises(UnknownNameError, match="known: .*renamed_butane"):
        systems.load("propane")


def test_a_registered_molecule_named_like_a_toy_is_a_molecule(tmp_path):
    butane = systems.load("butane")
    systems.register("double_well_butane", butane.psf, butane.prm, butane.pdb)
    registered = systems.load("double_well_butane")
    assert registered.kind == "molecule" and registered.temperature == 300.0
    assert registered.beta == pytest.approx(butane.beta)


def test_stream_files_of_a_directory_are_read_after_its_parameter_files(tmp_path):
    # CHARMM's order: parameter files, then stream files; a later value wins. "a_" sorts
    # before "butane.prm", so a plain name order would let butane.prm undo the override.
    butane = _copy_butane(tmp_path)
    (tmp_path / "a_override.str").write_text(
        "read param card flex append\nBONDS\nCG321  CG321   999.00     1.5300\n\nEND\n"
    )
    from_directory = systems.load(tmp_path)
    assert [path.name for path in from_directory.prm] == ["butane.prm", "a_override.str"]
    x = torch.as_tensor(butane.positions)[None].double() * 1.05
    stretched = from_directory.energy(dtype=torch.float64).terms(x)["bond"]
    original = butane.energy(dtype=torch.float64).terms(x)["bond"]
    assert float(stretched) > float(original)


def test_a_structure_with_nan_coordinates_is_named_before_any_sampling(tmp_path):
    # It used to reach the dynamics, which blamed the timestep.
    _copy_butane(tmp_path)
    pdb = next(tmp_path.glob("*.pdb"))
    lines = pdb.read_text().splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith(("ATOM", "HETATM")))
    lines[first] = lines[first][:30] + f"{'nan':>8}" + lines[first][38:]
    pdb.write_text("".join(lines))
    with pytest.raises(NonFiniteCoordinatesError, match=r"coordinates of atom\(s\) \[1\]"):
        systems.load(tmp_path)


def test_a_built_in_name_cannot_be_registered_over():
    butane = systems.load("butane")
    with pytest.raises(ConfigError, match="'double_well_2d' is a built-in system"):
        systems.register("double_well_2d", butane.psf, butane.prm, butane.pdb)
    assert systems.load("double_well_2d").kind == "toy"


@pytest.mark.parametrize("name", ["butane", "dialanine", "double_well_wide", "double_well_2d"])
def test_mode_labels_come_back_in_the_array_type_they_were_given(name):
    system = systems.load(name)
    if system.kind == "molecule":
        points = np.asarray(system.positions, dtype=np.float64)[None].repeat(2, axis=0)
    else:
        dim = 2 if name.endswith("2d") else 12
        points = np.zeros((2, dim))
        points[1, 0] = 1.0
    from_numpy = system.modes(points)
    from_torch = system.modes(torch.as_tensor(points))
    assert isinstance(from_numpy, np.ndarray) and from_numpy.dtype == np.int64
    assert isinstance(from_torch, torch.Tensor) and from_torch.dtype == torch.int64
    np.testing.assert_array_equal(from_numpy, from_torch.numpy())
