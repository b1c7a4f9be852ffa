"""Cost of the JKO step's Hessian: forward-mode (``gradient_and_hessian``) against autograd.

Times, side by side in one process, the two ways to get :math:`\\nabla u` and
:math:`\\log\\det\\nabla^2 u` of an input-convex potential:

- one training update: map, Hessian, ``slogdet``, a loss and its backward pass to the
  weights (autograd: a gradient with ``create_graph``, then :math:`D` second backward
  passes);
- one push of a particle chunk without a graph (what carrying the cloud and sampling cost).

Each number is the median over repeats. Networks are those of ``configs/jko/mixture.yaml``
(dense ICNN, two hidden layers of 128, rank 2, quadratic residual) unless told otherwise::

    OMP_NUM_THREADS=1 python -m benchmarks.jko_hessian --dims 2 8 12 --out R.md --json R.json
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

from benchmarks.markdown_report import publish_report
from benchmarks.rerun_command import rerun_command
from forcefields.atomic_files import write_json_atomic
from molgen.jko import DenseICNN, ExactLogDet, QuadraticResidual, gradient, hessian


def _median_seconds(work: Callable[[], None], repeats: int) -> float:
    work()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _autograd(potential: torch.nn.Module, x: torch.Tensor, create_graph: bool):
    leaf, grad = gradient(potential, x, create_graph=True)
    logdet = ExactLogDet.of_hessian(hessian(leaf, grad, create_graph=create_graph))
    return grad, logdet


def _forward_mode(potential: torch.nn.Module, x: torch.Tensor, create_graph: bool):
    return ExactLogDet().map_and_logdet(potential, x, create_graph)


def time_dimension(
    dim: int, hidden: tuple[int, ...], rank: int, batch: int, chunk: int, repeats: int
) -> dict[str, float]:
    """Median seconds of an update and of a push, each way, for one dimension."""
    torch.manual_seed(0)
    potential = QuadraticResidual(DenseICNN(dim, hidden, rank), dim)
    with torch.no_grad():
        potential.network.output_weight.uniform_(0.0, 0.1)
    x = 3 * torch.randn(batch, dim)
    cloud = 3 * torch.randn(chunk, dim)
    result = {}
    for name, derivatives in (("autograd", _autograd), ("forward_mode", _forward_mode)):

        def update(derivatives=derivatives) -> None:
            grad, logdet = derivatives(potential, x, True)
            (grad.square().mean() - logdet.mean()).backward()

        def push(derivatives=derivatives) -> None:
            derivatives(potential, cloud, False)

        result[f"update_{name}"] = _median_seconds(update, repeats)
        result[f"push_{name}"] = _median_seconds(push, repeats)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 8, 12])
    parser.add_argument("--hidden", type=int, nargs="+", default=[128, 128])
    parser.add_argument("--rank", type=int, default=2)
    parser.add_argument("--batch", type=int, default=512, help="particles per update")
    parser.add_argument("--chunk", type=int, default=4096, help="particles per push")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--out", type=Path, required=True, help="markdown file to write")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    rows = {
        dim: time_dimension(
            dim, tuple(args.hidden), args.rank, args.batch, args.chunk, args.repeats
        )
        for dim in args.dims
    }
    threads = torch.get_num_threads()
    machine = f"{platform.machine()}, {threads} torch thread(s), torch {torch.__version__}"
    command = rerun_command("benchmarks.jko_hessian", argv)
    lines = [
        f"`{command}`",
        "",
        f"Median seconds; dense ICNN {args.hidden}, rank {args.rank}; {machine}.",
        "",
        f"| D | update, autograd | update, forward mode | speed-up | push {args.chunk}, "
        "autograd | push, forward mode | speed-up |",
        "|---|---|---|---|---|---|---|",
    ]
    for dim, row in rows.items():
        lines.append(
            f"| {dim} | {row['update_autograd']:.4f} | {row['update_forward_mode']:.4f} | "
            f"{row['update_autograd'] / row['update_forward_mode']:.2f}× | "
            f"{row['push_autograd']:.4f} | {row['push_forward_mode']:.4f} | "
            f"{row['push_autograd'] / row['push_forward_mode']:.2f}× |"
        )
    publish_report(args.out, [*lines, ""])
    if args.json:
        settings = {k: v for k, v in vars(args).items() if k not in ("out", "json")}
        write_json_atomic(
            args.json,
            {"command": command, "settings": settings, "machine": machine, "rows": rows},
        )


if __name__ == "__main__":
    main()
