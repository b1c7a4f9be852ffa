"""Figure creation and atomic PNG saving with the Agg backend; the colours of the plots.

Colours follow the thesis's convention for reference data (orange, thesis §0); samples
of the generator are blue, their unweighted histograms grey.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["REFERENCE_COLOR", "SAMPLE_COLOR", "UNWEIGHTED_COLOR", "new_figure", "save_figure"]

REFERENCE_COLOR = "tab:orange"
SAMPLE_COLOR = "tab:blue"
UNWEIGHTED_COLOR = "tab:gray"


def new_figure(n_columns: int = 1, width: float = 4.5, height: float = 3.6):
    """A figure with ``n_columns`` axes side by side: ``(figure, [axes, ...])``."""
    figure, axes = plt.subplots(
        1, n_columns, figsize=(width * n_columns, height), squeeze=False, layout="constrained"
    )
    return figure, list(axes[0])


def save_figure(figure, path: Path | str) -> Path:
    """Write ``figure`` as PNG to ``path`` through a temporary file and a rename; close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".png"
    )
    os.close(descriptor)
    try:
        figure.savefig(temporary, format="png", dpi=120)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    finally:
        plt.close(figure)
    return path
