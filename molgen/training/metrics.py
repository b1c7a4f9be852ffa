"""Sample statistics of a generator and the ``metrics.jsonl`` log."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from forcefields.atomic_files import json_ready, write_text_atomic
from forcefields.errors import InputFileError
from molgen.flows.flow import Flow
from molgen.training.target import mode_labels
from systems.registry import System

__all__ = ["MetricsLog", "kish_ess_fraction", "sample_statistics"]


def kish_ess_fraction(log_weights: torch.Tensor) -> float:
    r"""Kish effective sample size over ``n``: :math:`(\sum w)^2 / (n \sum w^2)` from
    unnormalised log-weights ``(n,)`` (scale-free, so the unknown :math:`\log Z_B` drops).

    ``nan`` when a log-weight is ``nan`` or ``+inf``; points with weight 0 count as samples.
    """
    log_weights = log_weights.double()
    if torch.isnan(log_weights).any() or torch.isposinf(log_weights).any():
        return math.nan
    first = torch.logsumexp(log_weights, 0)
    second = torch.logsumexp(2.0 * log_weights, 0)
    return float(torch.exp(2.0 * first - second) / log_weights.shape[0])


def _finite_mean(values: torch.Tensor) -> float:
    """Mean of the finite entries of ``values`` ``(n,)``; ``nan`` when there are none."""
    finite = torch.isfinite(values)
    return float(values[finite].mean()) if finite.any() else math.nan


@torch.no_grad()
def sample_statistics(
    flow: Flow,
    beta_u_b: Callable[[torch.Tensor], torch.Tensor],
    system: System,
    n: int,
    generator: torch.Generator | None = None,
) -> dict[str, Any]:
    r"""Statistics of ``n`` fresh samples of ``flow`` (drawn with ``generator``).

    Keys: ``n``; ``mean_beta_u_b`` (mean reduced target energy of the finite ones);
    ``mean_log_ratio``, the mean of the finite :math:`r = U_G - \beta U_B`
    (:math:`= \log \mathcal Z_B - KL(p_G \| p_B)`, the :math:`K` of thesis §7.2, in nats);
    ``finite_fraction``; ``ess_fraction`` (Kish, from :math:`\log w = -\beta U_B - \log p_G`);
    ``mode_fractions`` ``{mode name: fraction of the n samples}`` when the system has
    modes; a sample with a non-finite coordinate lies in no mode, so the fractions sum
    to less than 1 when there are such samples.
    """
    x, log_p_g = flow.sample(n, generator=generator)
    reduced = beta_u_b(x).to(torch.float64)
    finite = torch.isfinite(reduced)
    log_ratio = -log_p_g.double() - reduced
    statistics: dict[str, Any] = {
        "n": n,
        "mean_beta_u_b": _finite_mean(reduced),
        "mean_log_ratio": _finite_mean(log_ratio),
        "finite_fraction": float(finite.double().mean()),
        "ess_fraction": kish_ess_fraction(log_ratio),
    }
    labels = mode_labels(system, x)
    if labels is not None:
        finite_coordinates = torch.isfinite(x.reshape(n, -1)).all(dim=1)
        counts = torch.bincount(labels[finite_coordinates].cpu(), minlength=len(system.mode_names))
        statistics["mode_fractions"] = {
            name: float(count) / n
            for name, count in zip(system.mode_names, counts.tolist(), strict=False)
        }
    return statistics


class MetricsLog:
    """Append-only JSON-lines log; each line is one record with an integer ``step``.

    Non-finite numbers are written as ``null`` (strict JSON).

    Arguments:
        path: the ``metrics.jsonl`` file.
    """

    def __init__(self, path: Path):
        self.path = Path(path)

    def start(self, keep_through_step: int | None) -> None:
        """Begin a run: empty the log, or keep only records with ``step <= keep_through_step``
        (resuming from a checkpoint at that step drops records written after it)."""
        kept = []
        if keep_through_step is not None and self.path.is_file():
            kept = [line for line, record in self._lines() if record["step"] <= keep_through_step]
        write_text_atomic(self.path, "".join(line + "\n" for line in kept))

    def append(self, record: dict[str, Any]) -> None:
        """Write one record as a line and flush it to disk."""
        with self.path.open("a") as handle:
            handle.write(json.dumps(json_ready(record), allow_nan=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def read(self) -> list[dict[str, Any]]:
        """All records."""
        if not self.path.is_file():
            return []
        return [record for _, record in self._lines()]

    def _lines(self) -> list[tuple[str, dict[str, Any]]]:
        """Lines of the file with their records; a last line cut short by a killed run (no
        final newline, not JSON) is dropped, any other unreadable line raises
        :class:`InputFileError`."""
        text = self.path.read_text()
        lines = text.splitlines()
        records = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                if number == len(lines) and not text.endswith("\n"):
                    break
                raise InputFileError(
                    f"{self.path}:{number}: not a JSON record ({error.msg})"
                ) from error
            if not isinstance(record, dict) or not isinstance(record.get("step"), int):
                raise InputFileError(f"{self.path}:{number}: a record needs an integer 'step'")
            records.append((line, record))
        return records
