"""Reference solution of a two-dimensional Fokker-Planck equation on a grid."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import expm_multiply

from .fokker_planck_1d import face_rates

__all__ = ["fokker_planck_2d"]


def fokker_planck_2d(
    potential: Callable[[np.ndarray], np.ndarray],
    initial: np.ndarray,
    axis: np.ndarray,
    times: Sequence[float],
    temperature: float = 1.0,
) -> np.ndarray:
    r"""Solves :math:`\partial_t\rho = \nabla\cdot(\rho\nabla V + \beta^{-1}\nabla\rho)` in
    two dimensions, exactly in time, on the square grid ``axis`` × ``axis`` with no-flux walls.

    Along each axis the flux between neighbouring nodes is the symmetric (detailed-balance)
    finite-volume flux of :func:`~molgen.jko.fokker_planck_1d.fokker_planck_1d`, with
    :math:`V` at the face midpoint: the stationary state is exactly :math:`e^{-\beta V}` on
    the grid and the spatial error is :math:`O(\Delta x^2)`. The sparse linear system is
    integrated with :func:`scipy.sparse.linalg.expm_multiply`, so there is no time-step
    error. Mass outside the grid is neglected.

    Arguments:
        potential: :math:`V`, on points of shape ``(..., 2)`` returning shape ``(...)``.
        initial: :math:`\rho_0` at the nodes, shape ``(n, n)`` (index ``[i, j]`` is
            ``(axis[i], axis[j])``; normalised here).
        axis: Uniformly spaced nodes of each axis, shape ``(n,)``.
        times: Output times :math:`t \ge 0`, increasing.
        temperature: :math:`\beta^{-1}`.

    Returns:
        Densities (unit mass, per unit area) at ``times``, shape ``(len(times), n, n)``.

    Raises:
        ValueError: a negative time, or times out of order.
    """
    if any(time < 0 for time in times) or any(np.diff(times) < 0):
        raise ValueError(f"times must be non-negative and increasing, got {list(times)}")
    n, spacing = len(axis), axis[1] - axis[0]
    rate = temperature / spacing**2
    x, y = np.meshgrid(axis, axis, indexing="ij")
    reduced = (potential(np.stack([x, y], -1)) / temperature).ravel()
    middle = 0.5 * (axis[1:] + axis[:-1])
    index = np.arange(n * n).reshape(n, n)
    rows, columns, values = [], [], []
    for faces, source, target in (
        (np.stack(np.meshgrid(middle, axis, indexing="ij"), -1), index[:-1, :], index[1:, :]),
        (np.stack(np.meshgrid(axis, middle, indexing="ij"), -1), index[:, :-1], index[:, 1:]),
    ):
        midpoint = (potential(faces) / temperature).ravel()
        low, high = reduced[source.ravel()], reduced[target.ravel()]
        forward, backward = face_rates(low, high, midpoint, rate)
        rows += [target.ravel(), source.ravel()]
        columns += [source.ravel(), target.ravel()]
        values += [forward, backward]
    rows, columns, values = map(np.concatenate, (rows, columns, values))
    generator = sparse.coo_matrix((values, (rows, columns)), shape=(n * n, n * n)).tocsr()
    outflow = np.asarray(generator.sum(axis=0)).ravel()
    generator = (generator - sparse.diags(outflow)).tocsr()
    mass = (initial / (initial.sum() * spacing**2)).ravel()
    out, state, now = [], mass, 0.0
    for time in times:
        state = expm_multiply(generator * (time - now), state)
        now = time
        out.append(state.reshape(n, n))
    return np.stack(out)
