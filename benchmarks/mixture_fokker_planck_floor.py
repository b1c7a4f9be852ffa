"""How close the exact Fokker-Planck law gets to the stationary mixture by t = 4 (D = 2).

The mixture benchmark scores each method by SymKL to the stationary mixture at t = 4, but
the Fokker-Planck flow from N(0, 16 I) has not reached it by then: mass still has to cross
between modes. This solves the two-dimensional Fokker-Planck equation on a grid
(:func:`molgen.jko.fokker_planck_2d.fokker_planck_2d`, exact in time, O(h^2) in space) for
each mixture and reports the SymKL of the exact law at t = 2 and t = 4 to the target, at
two grid spacings: the floor below which no method that follows the flow can go. With
``--mixture-key published`` (default) the mixtures are the published experiments' own,
shown beside their JKO-ICNN SymKL; ``--mixture-key ""`` takes those drawn from the seed
alone (the default of ``molgen jko`` and ``benchmarks.jko``).

    OMP_NUM_THREADS=1 python -m benchmarks.mixture_fokker_planck_floor \\
        --out benchmarks/results/mixture_fokker_planck_floor_d2.md
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from benchmarks.jko_mixture_seeds import PUBLISHED_BY_MIXTURE
from benchmarks.rerun_command import rerun_command
from forcefields.atomic_files import write_json_atomic, write_text_atomic
from molgen.jko.distributions import GaussianMixture
from molgen.jko.fokker_planck_2d import fokker_planck_2d
from molgen.jko.mixture_tables import MIXTURE_TABLE, keyed_mixture_means

DIM = 2
TIMES = (2.0, 4.0)
INITIAL_VARIANCE = 16.0
HALF_WIDTH = 20.0
"""Grid half-width: five standard deviations of the N(0, 16 I) start."""


def grid_symkl(first: np.ndarray, second: np.ndarray, spacing: float) -> float:
    """SymKL of two densities on the same grid (each renormalised there), in nats."""
    floor = np.finfo(float).tiny
    first = np.maximum(first, floor) / (first.sum() * spacing**2)
    second = np.maximum(second, floor) / (second.sum() * spacing**2)
    return float(((first - second) * np.log(first / second)).sum() * spacing**2)


def floor_for_mixture(means: torch.Tensor, spacing: float) -> dict[str, float]:
    """SymKL of the exact Fokker-Planck law to the mixture at :data:`TIMES` on one grid."""
    target = GaussianMixture(means.double())
    axis = np.arange(-HALF_WIDTH, HALF_WIDTH + spacing / 2, spacing)
    x, y = np.meshgrid(axis, axis, indexing="ij")

    def potential(points: np.ndarray) -> np.ndarray:
        flat = torch.from_numpy(points.reshape(-1, DIM))
        return target.potential(flat).numpy().reshape(points.shape[:-1])

    initial = np.exp(-(x**2 + y**2) / (2 * INITIAL_VARIANCE))
    laws = fokker_planck_2d(potential, initial, axis, TIMES)
    stationary = np.exp(-potential(np.stack([x, y], -1)))
    return {
        f"{t:g}": grid_symkl(law, stationary, spacing) for t, law in zip(TIMES, laws, strict=True)
    }


def mixture_means(key: str, components: int, width: float, seed: int) -> torch.Tensor:
    """The means ``molgen jko`` draws for mixture ``seed`` with ``problem.mixture_key: key``
    ("": the first draw of torch's generator seeded with ``seed``, as a float32 CPU run
    seeds it; float64 and CUDA runs draw other mixtures)."""
    if key:
        return keyed_mixture_means(key, components, DIM, width, seed)
    torch.manual_seed(seed)
    return GaussianMixture.random(components, DIM, width).means


def markdown(rows: list[dict], spacings: list[float], command: str) -> str:
    lines = [
        "# The exact Fokker-Planck law against the stationary mixture (D = 2)",
        "",
        f"Command: `{command}`",
        "",
        "SymKL (nats) of the exact law from N(0, 16 I) to the stationary mixture, on grids of "
        f"[-{HALF_WIDTH:g}, {HALF_WIDTH:g}]^2; published: the large-scale WGF JKO-ICNN value "
        "on the same mixture.",
        "",
        "| mixture | "
        + " | ".join(f"t = {t:g}, h = {h:g}" for h in spacings for t in TIMES)
        + " | published JKO-ICNN at t = 4 |",
        "|---|" + "---|" * (len(spacings) * len(TIMES) + 1),
    ]
    for row in rows:
        cells = [f"{row['floor'][f'{h:g}'][f'{t:g}']:.4f}" for h in spacings for t in TIMES]
        published = row["published"]
        lines.append(
            f"| {row['seed']} | "
            + " | ".join(cells)
            + f" | {'n/a' if published is None else f'{published:.4f}'} |"
        )
    finest = f"{spacings[-1]:g}"
    mean = np.mean([row["floor"][finest]["4"] for row in rows])
    lines += ["", f"Mean at t = 4 on the finest grid: {mean:.4f}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument(
        "--mixture-key",
        default="published",
        help='as benchmarks.jko ("": the mixtures drawn from the seed alone)',
    )
    parser.add_argument("--spacings", nargs="+", type=float, default=[0.2, 0.1])
    parser.add_argument("--out", required=True, help="markdown file to write")
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args(argv)
    components, width = MIXTURE_TABLE[DIM]
    published = PUBLISHED_BY_MIXTURE[DIM] if args.mixture_key == "published" else ()
    rows = []
    for seed in args.seeds:
        means = mixture_means(args.mixture_key, components, width, seed)
        rows.append(
            {
                "seed": seed,
                "floor": {f"{h:g}": floor_for_mixture(means, h) for h in args.spacings},
                "published": published[seed] if seed < len(published) else None,
            }
        )
        print(f"done mixture {seed}", flush=True)
    command = rerun_command("benchmarks.mixture_fokker_planck_floor", argv)
    table = markdown(rows, args.spacings, command)
    write_text_atomic(args.out, table)
    if args.json:
        write_json_atomic(args.json, {"command": command, "rows": rows})
    print(table)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
