"""Plots of the computed marginal density against the oracle over time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from forcefields.atomic_files import atomic_path  # noqa: E402

__all__ = ["plot_marginals"]


def plot_marginals(
    path: str | Path,
    snapshots: dict[float, Tensor],
    reference: Callable[[float, Tensor], Tensor | None] | None,
    title: str,
    observable_name: str = "x_0",
    reference_label: str = "oracle",
) -> None:
    """Histogram of an observable of the JKO samples at each time, with the oracle curve.

    Arguments:
        path: Output image (written atomically).
        snapshots: Time -> values of the observable, shape ``(n,)``.
        reference: Oracle density of the observable, ``(time, grid) -> (len(grid),)`` or
            ``None`` (also ``None`` itself).
        title: Figure title.
        observable_name: Label of the horizontal axis.
        reference_label: Legend of the reference curve.
    """
    times = sorted(snapshots)
    figure, axes = plt.subplots(1, len(times), figsize=(3.2 * len(times), 3), squeeze=False)
    for axis, time in zip(axes[0], times, strict=True):
        values = snapshots[time].cpu()
        finite = values[torch.isfinite(values)]  # a diverged flow's inf would break the range
        low, high = (finite.min().item(), finite.max().item()) if len(finite) else (-1.0, 1.0)
        if reference is not None:
            low, high = _with_reference_mass(reference, time, low, high)
        margin = 0.2 * (high - low) + 1e-3
        grid = torch.linspace(low - margin, high + margin, 400)
        if len(finite):
            axis.hist(finite.numpy(), bins=60, density=True, alpha=0.5, label="JKO-ICNN")
        curve = reference(time, grid) if reference is not None else None
        if curve is not None:
            axis.plot(grid.cpu().numpy(), curve.cpu().numpy(), color="black", label=reference_label)
        dropped = len(values) - len(finite)
        axis.set_title(f"t = {time:.3g}" + (f" ({dropped} non-finite)" if dropped else ""))
        axis.set_xlabel(observable_name)
    axes[0][0].legend()
    figure.suptitle(title)
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format=Path(path).suffix[1:])
    plt.close(figure)


def _with_reference_mass(
    reference: Callable[[float, Tensor], Tensor | None], time: float, low: float, high: float
) -> tuple[float, float]:
    """``[low, high]`` widened to where the oracle density exceeds 1e-3 of its peak within
    three widths of the samples' range on either side, so that a mode the samples miss
    is still drawn."""
    width = max(high - low, 1.0)
    probe = torch.linspace(low - 3 * width, high + 3 * width, 2000)
    curve = reference(time, probe)
    if curve is None:
        return low, high
    curve = curve.detach().cpu()
    finite = torch.isfinite(curve)
    if not bool(finite.any()):
        return low, high
    visible = finite & (curve > 1e-3 * curve[finite].max())
    if not bool(visible.any()):
        return low, high
    inside = probe[visible]
    return min(low, inside.min().item()), max(high, inside.max().item())
