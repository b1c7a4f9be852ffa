"""Reading coordinate frames from any trajectory or structure file mdtraj reads."""

from __future__ import annotations

import contextlib
import io
import os
import struct
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


def dcd_header_frame_count(path: Path | str) -> int | None:
    """The frame count (NSET) a DCD file's header records, or ``None`` when the file does
    not start with a CHARMM/NAMD ``CORD`` header in either byte order."""
    with open(path, "rb") as stream:
        head = stream.read(12)
    for order in ("<", ">"):
        if (
            len(head) == 12
            and head[4:8] == b"CORD"
            and struct.unpack(f"{order}i", head[:4])[0] == 84
        ):
            return struct.unpack(f"{order}i", head[8:12])[0]
    return None


def _refuse_truncated_dcd(trajectory: Path, n_frames: int) -> None:
    """Raise :class:`InputFileError` when a DCD holds fewer whole frames than its header
    counts: mdtraj reads the whole frames and drops the rest without a word."""
    if Path(trajectory).suffix.lower() != ".dcd":
        return
    recorded = dcd_header_frame_count(trajectory)
    if recorded is not None and recorded > n_frames:
        raise InputFileError(
            f"{trajectory}: its header counts {recorded} frames but the file holds "
            f"{n_frames} whole ones (truncated?)"
        )


def read_frames(trajectory: Path, topology: Path | None) -> np.ndarray:
    """Frames ``(B, N, 3)`` in nm from any file mdtraj reads (``.dcd``, ``.h5``, ``.pdb``, ...).

    What mdtraj prints while reading (a missing-PyTables banner, the DCD plugin's notes on
    standard output) is swallowed (:func:`quiet_reader`), so that a failure is reported as
    one line and printed results stay clean.

    Raises:
        InputFileError: a file is missing, mdtraj cannot read it, or a DCD holds fewer
            frames than its header counts (truncated).
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
    _refuse_truncated_dcd(trajectory, frames.n_frames)
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
