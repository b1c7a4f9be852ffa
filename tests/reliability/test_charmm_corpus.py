"""Every malformed psf/prm of the corpus ends in a typed error naming the faulty file,
from ``forcefields.load`` and from ``molgen validate-ff`` (exit 2, one line, no report)."""

from __future__ import annotations

import pytest

import forcefields
from forcefields.errors import InputFileError, MissingParameterError
from systems.files import charmm_files
from tests.reliability import bad_inputs
from tests.reliability.cli_contract import assert_cli_rejects
from tests.reliability.malformed_charmm import MalformedPair, malformed_pairs

CORPUS = malformed_pairs()


def _write(pair: MalformedPair, folder) -> dict[str, object]:
    paths = {"psf": folder / "case.psf", "prm": folder / "case.prm"}
    for which, path in paths.items():
        content = getattr(pair, which)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return paths


@pytest.mark.parametrize("pair", CORPUS, ids=[pair.label for pair in CORPUS])
def test_malformed_pair_is_rejected(pair: MalformedPair, tmp_path, capsys):
    bad_inputs.record("charmm pair", pair.psf, pair.prm)
    paths = _write(pair, tmp_path)
    culprit = paths[pair.culprit]
    with pytest.raises((InputFileError, MissingParameterError)) as raised:
        forcefields.load(paths["psf"], paths["prm"])
    message = str(raised.value)
    assert str(culprit) in message
    assert "\n" not in message

    report = tmp_path / "out" / "report.json"
    argv = ["validate-ff", "--psf", paths["psf"], "--prm", paths["prm"]]
    argv += ["--traj", charmm_files("butane").pdb, "--json", report]
    assert_cli_rejects(argv, capsys, names=[culprit], outputs=[report])


def test_corpus_is_large_and_distinct():
    assert len(CORPUS) >= 300
    assert len({(pair.psf, pair.prm) for pair in CORPUS}) == len(CORPUS)
