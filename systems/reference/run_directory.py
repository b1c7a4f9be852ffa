"""The output folder of a reference run: created fresh, or resumed with the same settings.

``run.json`` records the settings a run was started with. Resuming checks the new
settings against it, except the ones that may change between sessions (the number of
iterations, which extends a run, and the platform or ``torch.compile``, which do not
change the results' distribution). :func:`check_positive` is the range check run settings
pass before anything is written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from forcefields.atomic_files import remove_stale_temporaries
from forcefields.errors import ConfigError
from forcefields.json_input import read_json_object
from systems.reference.atomic_files import write_json_atomic

__all__ = [
    "RUN_FILE",
    "RESUMABLE_KEYS",
    "check_positive",
    "note_iterations_done",
    "prepare_run_directory",
]

RUN_FILE = "run.json"
RESUMABLE_KEYS = frozenset({"iterations", "platform", "compile"})


def check_positive(**values: float) -> None:
    """Raise :class:`ConfigError` naming the first of ``values`` that is not positive."""
    for name, value in values.items():
        if not value > 0:
            raise ConfigError(f"{name}: must be positive, got {value}")


def note_iterations_done(done: int, requested: int) -> None:
    """Say on stderr (a note, not an error) that a resumed run already holds more than the
    ``requested`` iterations, so nothing is run and all ``done`` are reported."""
    if done > requested:
        print(
            f"note: already {done} iterations (--iterations {requested}); nothing to do",
            file=sys.stderr,
        )


def prepare_run_directory(out_dir: Path | str, settings: dict[str, Any], resume: bool) -> bool:
    """Create ``out_dir`` for a new run, or check that it holds a run with ``settings``.

    Arguments:
        out_dir: the run's folder.
        settings: JSON-ready settings of the run (written to ``run.json``; a resumed
            run keeps the larger of its stored and new ``iterations``).
        resume: continue the run already in ``out_dir`` (the temporary files a killed
            session's atomic writers left there are removed).

    Returns:
        ``True`` when an existing run is resumed, ``False`` for a new one.

    A folder that holds only the ``run.json`` of a run stopped before it recorded anything
    (say, unstable at its first iteration) is started afresh without ``resume``, with the
    new settings.

    Raises:
        ConfigError: ``out_dir`` holds files without ``resume``; ``resume`` without a run in
            ``out_dir``; or settings that differ from the stored run's.
        InputFileError: a ``run.json`` to resume that is not readable JSON settings.
    """
    out_dir = Path(out_dir)
    run_file = out_dir / RUN_FILE
    if not resume:
        if not _holds_nothing_recorded(out_dir):
            raise ConfigError(f"{out_dir}: the output folder exists; pass --resume to continue it")
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(run_file, settings)
        return False
    if not run_file.is_file():
        raise ConfigError(f"{out_dir}: --resume needs a run started there ({RUN_FILE} missing)")
    stored = read_json_object(run_file, "a JSON object of settings")
    for key in sorted(set(stored) | set(settings)):
        if key in RESUMABLE_KEYS:
            continue
        if stored.get(key) != _json_round_trip(settings.get(key)):
            raise ConfigError(
                f"{run_file}: {key} is {stored.get(key)!r}, the resumed run asks for "
                f"{settings.get(key)!r}"
            )
    iterations = max(stored.get("iterations", 0), settings.get("iterations", 0))
    write_json_atomic(run_file, {**settings, "iterations": iterations})
    remove_stale_temporaries(out_dir)  # half-written files of the killed session
    return True


def _holds_nothing_recorded(out_dir: Path) -> bool:
    """Whether ``out_dir`` is missing, empty, or holds only the ``run.json`` of a run that
    stopped before recording anything (which a new run may replace)."""
    if not out_dir.exists():
        return True
    names = {path.name for path in out_dir.iterdir() if not path.name.startswith(".")}
    return names <= {RUN_FILE}


def _json_round_trip(value: Any) -> Any:
    return json.loads(json.dumps(value))
