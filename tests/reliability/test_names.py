"""Unknown system, variant, loss, term and preset names end in a typed error naming them."""

from __future__ import annotations

import pytest
import torch

import forcefields
import systems
from forcefields.errors import ConfigError, InputFileError, UnknownNameError
from molgen.losses.registry import get_loss
from systems.files import charmm_files
from tests.reliability import bad_inputs
from tests.reliability.cli_contract import assert_cli_rejects

BAD_SYSTEMS = ("nope", "Butane", "butane ", "double_well", "dialanine2", "../butane")


@pytest.mark.parametrize("name", BAD_SYSTEMS)
def test_unknown_system_names(name, tmp_path, capsys):
    bad_inputs.record("system name", name)
    with pytest.raises(UnknownNameError, match=repr(name).replace("(", r"\(")):
        systems.load(name)
    out = tmp_path / "reference"
    assert_cli_rejects(["reference", name, "--out", out], capsys, [repr(name)], [out])
    report = tmp_path / "report.json"
    argv = ["validate-ff", "--system", name, "--frames", "2", "--json", report]
    assert_cli_rejects(argv, capsys, [repr(name)], [report])


@pytest.mark.parametrize("variant", ["nope", "LIPID", ""])
def test_unknown_variants(variant, tmp_path, capsys):
    bad_inputs.record("variant", variant)
    report = tmp_path / "report.json"
    argv = ["validate-ff", "--system", "butane", "--variant", variant, "--json", report]
    assert_cli_rejects(argv, capsys, [repr(variant)], [report])


@pytest.mark.parametrize("name", ["nope", "KL_X", "kl-x", "sinkhorn"])
def test_unknown_loss_names(name):
    bad_inputs.record("loss name", name)
    with pytest.raises(UnknownNameError, match=repr(name)):
        get_loss(name)


@pytest.mark.parametrize(
    "clip, field",
    [
        ({"nope": 1.0}, "clip.nope"),
        ({"dihedral": 1.0}, "clip.dihedral"),
        ({"bond": -1.0}, "clip.bond"),
        ({"lj": "big"}, "clip.lj"),
        ({"coulomb": True}, "clip.coulomb"),
        ("fast", "clip"),
        (3.0, "clip"),
    ],
    ids=str,
)
def test_unknown_terms_and_bad_thresholds(clip, field):
    files = charmm_files("butane")
    bad_inputs.record("clip", repr(clip))
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        forcefields.load(files.psf, files.prm, clip=clip)


@pytest.mark.parametrize(
    "align, field",
    [
        ({"mode": "nope"}, "nope"),
        ({"weight": -1.0}, "weight"),
        ({"max_angle": 7.0}, "max_angle"),
        ({"unknown": 1}, "align.unknown"),
        ({}, "align.reference"),
    ],
    ids=str,
)
def test_bad_alignment_options(align, field):
    files = charmm_files("butane")
    options = dict(align)
    if "reference" not in field:
        options["reference"] = torch.zeros(14, 3, dtype=torch.float64)
    bad_inputs.record("align", repr(align))
    with pytest.raises((ConfigError, UnknownNameError), match=field):
        forcefields.load(files.psf, files.prm, align=options)


def test_bad_dtype():
    files = charmm_files("butane")
    bad_inputs.record("dtype", "int32")
    with pytest.raises(ConfigError, match="dtype"):
        forcefields.load(files.psf, files.prm, dtype=torch.int32)


@pytest.mark.parametrize(
    "content", [None, b"", b"not a structure\n"], ids=["absent", "empty", "text"]
)
def test_unreadable_alignment_reference(content, tmp_path):
    files = charmm_files("butane")
    reference = tmp_path / "reference.pdb"
    if content is not None:
        reference.write_bytes(content)
    bad_inputs.record("align reference", repr(content))
    with pytest.raises(InputFileError, match=r"align\.reference: .*reference\.pdb"):
        forcefields.load(files.psf, files.prm, align={"reference": reference})
