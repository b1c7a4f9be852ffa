"""Property tests: arbitrary bytes as a psf or prm, and random edits of real files, either
load or end in a typed error that names the file: never another exception."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forcefields
from forcefields.errors import MolgenError
from systems.files import charmm_files
from tests.reliability import bad_inputs

BUTANE = charmm_files("butane")
PSF_TEXT = BUTANE.psf.read_text()
PRM_TEXT = BUTANE.prm.read_text()
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _load_or_typed_error(psf: Path, prm: Path, culprit: Path) -> None:
    try:
        forcefields.load(psf, prm)
    except MolgenError as error:
        message = str(error)
        assert str(culprit) in message
        assert "\n" not in message
        bad_inputs.record("charmm pair", psf.read_bytes(), prm.read_bytes())


@SETTINGS
@given(content=st.binary(max_size=4096))
def test_arbitrary_bytes_as_psf(tmp_path, content):
    psf = tmp_path / "arbitrary.psf"
    psf.write_bytes(content)
    _load_or_typed_error(psf, BUTANE.prm, psf)


@SETTINGS
@given(content=st.binary(max_size=4096))
def test_arbitrary_bytes_as_prm(tmp_path, content):
    prm = tmp_path / "arbitrary.prm"
    prm.write_bytes(content)
    _load_or_typed_error(BUTANE.psf, prm, prm)


@SETTINGS
@given(
    which=st.sampled_from(["psf", "prm"]),
    start=st.floats(0, 1),
    length=st.integers(1, 40),
    replacement=st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
)
def test_random_edit_of_a_real_file(tmp_path, which, start, length, replacement):
    text = PSF_TEXT if which == "psf" else PRM_TEXT
    offset = int(start * len(text))
    edited = text[:offset] + replacement + text[offset + length :]
    psf, prm = tmp_path / "edited.psf", tmp_path / "edited.prm"
    psf.write_text(edited if which == "psf" else PSF_TEXT)
    prm.write_text(edited if which == "prm" else PRM_TEXT)
    _load_or_typed_error(psf, prm, psf if which == "psf" else prm)
