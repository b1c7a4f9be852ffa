"""Weights-only torch files: read back, or refused with one line that names the file and
never advises unpickling it."""

from __future__ import annotations

import datetime

import pytest
import torch

from forcefields.errors import InputFileError
from forcefields.torch_input import load_weights_only


class _CheckpointError(InputFileError):
    pass


def test_tensors_and_plain_data_are_read_back(tmp_path):
    path = tmp_path / "ok.pt"
    torch.save({"step": 3, "weights": torch.arange(4.0)}, path)
    payload = load_weights_only(path, "checkpoint")
    assert payload["step"] == 3
    assert torch.equal(payload["weights"], torch.arange(4.0))


def _truncated(path):
    torch.save({"weights": torch.zeros(100)}, path)
    path.write_bytes(path.read_bytes()[:200])


def _not_a_torch_file(path):
    path.write_bytes(b"plain text, not a zip archive")


def _other_objects(path):
    torch.save({"when": datetime.datetime(2026, 1, 1)}, path)


@pytest.mark.parametrize(
    ("write", "reason"),
    [
        (_truncated, "failed reading zip archive"),
        (_not_a_torch_file, "not a torch file"),
        (_other_objects, "holds objects other than tensors and plain data"),
    ],
)
def test_unreadable_files_are_one_line_errors_of_the_callers_type(write, reason, tmp_path):
    path = tmp_path / "bad.pt"
    write(path)
    with pytest.raises(_CheckpointError) as raised:
        load_weights_only(path, "checkpoint", _CheckpointError)
    message = str(raised.value)
    assert message.startswith(f"{path}: not a readable checkpoint (")
    assert reason in message
    assert "\n" not in message
    # torch's own message advises weights_only=False, which would run the file's code
    assert "weights_only" not in message


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(InputFileError, match="missing.pt: not a readable checkpoint"):
        load_weights_only(tmp_path / "missing.pt", "checkpoint")
