"""Atomic writes: the new file is flushed to disk before it replaces the old one; JSON is
strict."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from forcefields import atomic_files
from forcefields.atomic_files import write_json_atomic, write_text_atomic


def test_the_file_is_flushed_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{descriptor}")))
        real_fsync(descriptor)

    def replace(source, destination) -> None:
        events.append(("replace", str(destination)))
        real_replace(source, destination)

    monkeypatch.setattr(atomic_files.os, "fsync", fsync)
    monkeypatch.setattr(atomic_files.os, "replace", replace)
    target = tmp_path / "report.md"
    write_text_atomic(target, "hello\n")
    assert target.read_text() == "hello\n"
    kinds = [kind for kind, _ in events]
    assert kinds == ["fsync", "replace", "fsync"]
    assert events[0][1].startswith(str(tmp_path / ".report.md."))  # the temporary file
    assert events[2][1] == str(tmp_path)  # the folder holding the new entry


def test_a_failed_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_files.atomic_path(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("writer failed")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_a_folder_as_destination_is_named_and_nothing_is_created(tmp_path):
    target = tmp_path / "adir"
    target.mkdir()
    with pytest.raises(IsADirectoryError) as error:
        write_text_atomic(target, "hello\n")
    assert error.value.filename == str(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir"]
    assert list(target.iterdir()) == []


def test_without_a_mode_the_file_gets_the_bits_a_plain_open_gives(tmp_path):
    previous = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "atomic.txt", "x")
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(previous)
    atomic = (tmp_path / "atomic.txt").stat().st_mode & 0o777
    assert atomic == (tmp_path / "plain.txt").stat().st_mode & 0o777 == 0o644


def test_stale_temporaries_of_killed_writers_are_removed_and_nothing_else(tmp_path):
    keep = ["step_000000010.pt", ".hidden", ".notes.txt", "metrics.jsonl", ".x.abcdefgh.npz"]
    stale = [
        ".step_000000020.pt.k3j_9x2a.pt",
        ".metrics.jsonl.q1w2e3r4.jsonl",
        ".config.yaml.a1b2c3d4.yaml",
    ]
    for name in keep + stale:
        (tmp_path / name).write_text("x")
    removed = atomic_files.remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == sorted(stale)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep)


def test_an_error_without_a_file_name_gets_the_destination(tmp_path):
    import errno

    from cli.main import _one_line

    target = tmp_path / "stats.json"
    with pytest.raises(OSError) as raised, atomic_files.atomic_path(target) as temporary:
        temporary.write_text("partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(target)
    assert _one_line(raised.value) == f"{target}: No space left on device"
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_the_nearest_existing_folder_of_a_file_in_folders_yet_to_be_made(tmp_path):
    (tmp_path / "a").mkdir()
    assert atomic_files.nearest_existing_folder(tmp_path / "a" / "b" / "c" / "f.npz") == (
        tmp_path / "a"
    )
    assert atomic_files.nearest_existing_folder(tmp_path / "a" / "f.npz") == tmp_path / "a"


def test_json_is_strict_and_lists_the_non_finite_numbers_it_wrote_as_null(tmp_path):
    path = tmp_path / "result.json"
    payload = {
        "total": {"max_abs": float("nan"), "passed": False},
        "rows": [1.0, np.float32("inf"), np.array([2.0, -np.inf])],
        "count": np.int64(3),
    }
    write_json_atomic(path, payload)

    def refuse(constant: str):
        raise ValueError(f"non-standard JSON constant {constant}")

    written = json.loads(path.read_text(), parse_constant=refuse)
    assert written["total"] == {"max_abs": None, "passed": False}
    assert written["rows"] == [1.0, None, [2.0, None]]
    assert written["count"] == 3
    assert written["non_finite"] == {
        "total/max_abs": "nan",
        "rows/1": "inf",
        "rows/2/1": "-inf",
    }
