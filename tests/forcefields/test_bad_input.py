"""Bad input ends in a typed error naming the file or field; the CLI exits 2 without a traceback."""

import numpy as np
import pytest
import torch

import forcefields
import systems
from cli.main import main
from forcefields.errors import (
    ConfigError,
    InputFileError,
    MissingParameterError,
    NonFiniteCoordinatesError,
    ShapeMismatchError,
)
from forcefields.json_input import read_json_object
from systems.files import charmm_files


@pytest.fixture(scope="module")
def butane():
    return charmm_files("butane")


def test_atom_count_mismatch(butane):
    energy = forcefields.load(butane.psf, butane.prm)
    with pytest.raises(ShapeMismatchError, match=r"\(B, 14, 3\).*\(2, 13, 3\)"):
        energy(torch.zeros(2, 13, 3, dtype=torch.float64))


def test_nan_coordinates(butane):
    energy = forcefields.load(butane.psf, butane.prm)
    x = torch.ones(3, 14, 3, dtype=torch.float64)
    x[1, 4, 2] = float("nan")
    with pytest.raises(NonFiniteCoordinatesError, match=r"frame\(s\) \[1\]"):
        energy(x)


def test_truncated_prm(butane, tmp_path):
    text = butane.prm.read_text()
    truncated = tmp_path / "truncated.prm"
    truncated.write_text(text[: len(text) // 3])
    with pytest.raises((MissingParameterError, InputFileError), match="truncated.prm"):
        forcefields.load(butane.psf, truncated)


def test_a_psf_given_as_the_parameter_file_is_named_as_such(butane):
    # used to say "no END line (truncated CHARMM parameter file?)"
    with pytest.raises(InputFileError, match=r"butane.psf: a CHARMM psf .* not a parameter file"):
        forcefields.load(butane.psf, butane.psf)


def test_missing_bond_parameter(butane, tmp_path):
    lines = butane.prm.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().upper().startswith("BONDS"))
    first_bond = next(
        i
        for i in range(start + 1, len(lines))
        if lines[i].strip() and not lines[i].lstrip().startswith("!")
    )
    broken = tmp_path / "missing.prm"
    broken.write_text("\n".join(lines[:first_bond] + lines[first_bond + 1 :]) + "\n")
    with pytest.raises(MissingParameterError, match="missing.prm.*bond"):
        forcefields.load(butane.psf, broken)


def test_missing_and_garbled_files(butane, tmp_path):
    with pytest.raises(InputFileError, match="nowhere.psf"):
        forcefields.load(tmp_path / "nowhere.psf", butane.prm)
    garbled = tmp_path / "garbled.psf"
    garbled.write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8)))
    with pytest.raises(InputFileError, match="garbled.psf"):
        forcefields.load(garbled, butane.prm)


def test_cli_reports_bad_input_with_exit_2(butane, tmp_path, capsys):
    status = main(
        [
            "validate-ff",
            "--psf",
            str(tmp_path / "nowhere.psf"),
            "--prm",
            str(butane.prm),
            "--traj",
            str(butane.pdb),
        ]
    )
    captured = capsys.readouterr()
    assert status == 2
    assert "nowhere.psf" in captured.err
    assert "Traceback" not in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_cli_rejects_mismatched_trajectory(tmp_path, capsys):
    dialanine = charmm_files("dialanine")
    butane = charmm_files("butane")
    status = main(
        [
            "validate-ff",
            "--psf",
            str(dialanine.psf),
            "--prm",
            str(dialanine.prm),
            "--traj",
            str(butane.pdb),
            "--top",
            str(butane.pdb),
        ]
    )
    assert status == 2
    assert "(B, 22, 3)" in capsys.readouterr().err


def test_cmap_resolution_error_names_the_files(tmp_path):
    """A second CMAP (CL-CLP-NL-CA-CB) with a 4 × 4 grid beside the 24 × 24 one."""
    dialanine = charmm_files("dialanine")
    psf = tmp_path / "two_cmaps.psf"
    psf.write_text(
        dialanine.psf.read_text().replace(
            "         1 !NCRTERM: cross-terms\n",
            "         2 !NCRTERM: cross-terms\n"
            "         1         5         7         9         5         7         9        11\n",
        )
    )
    prm = tmp_path / "two_cmaps.prm"
    grid = "\n".join(["0.0 0.0 0.0 0.0"] * 4)
    prm.write_text(
        dialanine.prm.read_text().replace(
            "CMAP\n", f"CMAP\n\nCT3 C NH1 CT1 C NH1 CT1 CT3 4\n\n{grid}\n\n", 1
        )
    )
    with pytest.raises(MissingParameterError, match=r"two_cmaps.psf \+ .*two_cmaps.prm: CMAP"):
        forcefields.read_charmm(psf, prm)


@pytest.mark.parametrize("end", ["End", "end", "END"])
def test_end_line_in_any_case_is_accepted(butane, tmp_path, end):
    prm = tmp_path / "end.prm"
    prm.write_text(butane.prm.read_text().replace("\nEND", f"\n{end}"))
    parameters = forcefields.read_charmm(butane.psf, prm)
    reference = forcefields.read_charmm(butane.psf, butane.prm)
    np.testing.assert_array_equal(parameters.bond_k, reference.bond_k)


@pytest.mark.parametrize("atoms", [[0, 1.5], ["C1"], [[0, 1], [2]], "carbons"])
def test_non_integer_alignment_atoms_name_the_field(butane, atoms):
    reference = np.zeros((14, 3))
    with pytest.raises(ConfigError, match=r"align.atoms: expected 'all', 'heavy' or a list"):
        forcefields.load(butane.psf, butane.prm, align={"reference": reference, "atoms": atoms})


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"mass_weighted": "no"}, r"align.mass_weighted: expected true or false, got 'no'"),
        ({"mass_weighted": 1}, r"align.mass_weighted: expected true or false, got 1"),
        ({"weight": "1e3"}, r"align.weight: expected a number, got '1e3'"),
        ({"weight": None}, r"align.weight: expected a number, got None"),
        ({"max_angle": True}, r"align.max_angle: expected a number, got True"),
        ({"reference": [["a", "b", "c"]] * 14}, r"align.reference: expected \(N, 3\) coordinates"),
    ],
)
def test_alignment_options_of_the_wrong_type_name_the_field(butane, option, message):
    # "no" used to switch mass weighting on (a truthy string); a string weight was a TypeError
    align = {"reference": np.zeros((14, 3)), "mode": "rigid", **option}
    with pytest.raises(ConfigError, match=message):
        forcefields.load(butane.psf, butane.prm, align=align)


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("gpu", r"device: 'gpu' is not a device name"),
        ("cuda:x", r"device: 'cuda:x' is not"),
        ("mps", r"device: 'mps' is not supported \(molgen runs on cpu and cuda"),
        ("meta", r"device: 'meta' is not supported"),
        ("xpu", r"device: 'xpu' is not supported"),
    ]
    + (
        [("cuda:99", r"device: 'cuda:99' requested but this machine has")]
        if torch.cuda.is_available()
        else [("cuda", r"device: 'cuda' requested but CUDA")]
    ),
)
def test_an_unusable_device_is_a_config_error(butane, device, message):
    # used to be torch's RuntimeError, or an AssertionError on a build without CUDA
    with pytest.raises(ConfigError, match=message):
        forcefields.load(butane.psf, butane.prm, device=device)
    with pytest.raises(ConfigError, match=message):
        systems.load("double_well_wide").energy(device=device)


def test_numpy_scalars_are_numbers_in_options(butane):
    # np.float32 and np.int64 used to be refused as "not a finite positive number"
    positions = torch.as_tensor(systems.load("butane").positions)
    squeezed = 0.6 * positions[None]  # atoms pressed into their LJ walls: clipping acts
    shifted = positions[None] + 0.05  # a translation the alignment penalty sees
    reference = positions.numpy()

    def energies(value):
        clipped = forcefields.load(butane.psf, butane.prm, clip={"lj": value})
        aligned = forcefields.load(
            butane.psf, butane.prm, align={"reference": reference, "weight": value}
        )
        return clipped(squeezed), aligned(shifted)

    expected = energies(1e4)
    assert expected[0] < forcefields.load(butane.psf, butane.prm)(squeezed)
    for value in (np.float32(1e4), np.int64(10000)):
        assert energies(value) == expected


@pytest.mark.parametrize(
    ("energy_dtype", "x_dtype"),
    [(torch.float64, torch.float32), (torch.float32, torch.float64), (torch.float64, torch.int64)],
)
def test_coordinates_of_another_dtype_are_a_typed_error(butane, energy_dtype, x_dtype):
    # Used to fail deep inside a term with an untyped RuntimeError ("expected scalar type").
    energy = forcefields.load(butane.psf, butane.prm, dtype=energy_dtype)
    x = torch.zeros(2, 14, 3, dtype=x_dtype)
    for call in (energy, energy.terms, energy.forces):
        with pytest.raises(ShapeMismatchError, match=rf"coordinates: {x_dtype}.*{energy_dtype}"):
            call(x)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_coordinates_on_another_device_are_a_typed_error(butane):
    energy = forcefields.load(butane.psf, butane.prm, device="cuda")
    with pytest.raises(ShapeMismatchError, match=r"coordinates: torch.float64 on cpu.*cuda"):
        energy(torch.zeros(2, 14, 3, dtype=torch.float64))


def test_alignment_reference_of_another_molecule_is_refused_at_load(butane):
    # Used to load, then fail at every evaluation blaming the (correct) coordinates.
    dialanine = charmm_files("dialanine")
    with pytest.raises(ShapeMismatchError, match=r"align.reference: 22 atoms, .* has 14"):
        forcefields.load(butane.psf, butane.prm, align={"reference": str(dialanine.pdb)})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "expected a JSON object, got list"),
        ('{"a": ', "not readable as JSON"),
        (b"\xff\xfe", "not readable as JSON"),
    ],
)
def test_a_json_file_that_is_not_an_object_is_an_input_error(tmp_path, content, message):
    path = tmp_path / "stats.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputFileError, match=rf"stats\.json: {message}"):
        read_json_object(path)


def test_a_missing_json_file_is_an_input_error(tmp_path):
    with pytest.raises(InputFileError, match=r"absent\.json: not readable as JSON"):
        read_json_object(tmp_path / "absent.json")


def test_the_force_function_of_dynamics_names_a_dtype_mismatch(butane):
    # used to fail inside a term's index_add_ with an untyped RuntimeError
    from systems.reference.molecular_forces import energy_and_forces_function

    energy = forcefields.load(butane.psf, butane.prm, dtype=torch.float64)
    forces = energy_and_forces_function(energy)
    x = torch.zeros(1, 14, 3, dtype=torch.float32)
    with pytest.raises(ShapeMismatchError, match="coordinates: torch.float32"):
        forces(x)
