"""Reading coordinate frames from any trajectory or structure file mdtraj reads."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from forcefields.atomic_files import ascii_named
from forcefields.errors import InputFileError, NonFiniteCoordinatesError, ShapeMismatchError

__all__ = ["read_frames", "carries_topology", "quiet_reader"]

MAX_REASON_LENGTH = 300
"""Longest excerpt of a reader's own error message quoted in ours."""

_SELF_DESCRIBING = (
    ".pdb", ".pdb.gz", ".pdbx", ".pdbx.gz", ".cif", ".cif.gz", ".mmcif", ".mmcif.gz",
    ".h5", ".hdf5", ".lh5", ".mol2", ".gro", ".arc", ".hoomdxml", ".gsd",
)  # fmt: skip


def carries_topology(path: Path | str) -> bool:
    """Whether mdtraj reads ``path`` without a separate topology (pdb, mmCIF, HDF5, mol2,
    gro, ...); dcd, xtc, trr, nc and the like need one."""
    return str(path).lower().endswith(_SELF_DESCRIBING)


@contextlib.contextmanager
def quiet_reader() -> Iterator[None]:
    """Silences what a trajectory reader prints while it runs: Python's ``sys.stderr``
    (a missing-PyTables banner) and the process's standard output file descriptor, where
    mdtraj's C DCD plugin writes ``dcdplugin) detected standard 32-bit DCD file ...``
    past ``sys.stdout``. Output written by this process meanwhile is dropped too."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:
        saved = None
    try:
        if saved is not None:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 1)
        with contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def read_frames(trajectory: Path, topology: Path | None) -> np.ndarray:
    """Frames ``(B, N, 3)`` in nm from any file mdtraj reads (``.dcd``, ``.h5``, ``.pdb``, ...).

    What mdtraj prints while reading (a missing-PyTables banner, the DCD plugin's notes on
    standard output) is swallowed (:func:`quiet_reader`), so that a failure is reported as
    one line and printed results stay clean.

    Raises:
        InputFileError: a file is missing or mdtraj cannot read it.
        ShapeMismatchError: the trajectory has no frames.
        NonFiniteCoordinatesError: a frame holds NaN or infinite coordinates.
    """
    import mdtraj

    if not Path(trajectory).is_file():
        raise InputFileError(f"{trajectory}: trajectory file not found")
    if topology is not None and not Path(topology).is_file():
        raise InputFileError(f"{topology}: topology file not found")
    try:
        with quiet_reader(), ascii_named(trajectory, "read") as readable:
            if topology is None:
                frames = mdtraj.load(str(readable))
            else:
                with ascii_named(topology, "read") as readable_topology:
                    frames = mdtraj.load(str(readable), top=str(readable_topology))
    except Exception as error:
        message = " ".join(str(error).split())[:MAX_REASON_LENGTH]
        raise InputFileError(f"{trajectory}: mdtraj cannot read it ({message})") from error
    if frames.n_frames == 0:
        raise ShapeMismatchError(f"{trajectory}: the trajectory has no frames")
    xyz = frames.xyz.astype(np.float64)
    finite = np.isfinite(xyz).reshape(len(xyz), -1).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)[:10].tolist()
        raise NonFiniteCoordinatesError(
            f"{trajectory}: NaN or infinite coordinates in frame(s) {bad}"
        )
    return xyz
