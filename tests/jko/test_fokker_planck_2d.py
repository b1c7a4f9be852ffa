"""The two-dimensional Fokker-Planck grid solver against the one-dimensional one and OU."""

import numpy as np
import pytest

from molgen.jko.fokker_planck_1d import fokker_planck_1d
from molgen.jko.fokker_planck_2d import fokker_planck_2d

AXIS = np.linspace(-4.5, 4.5, 46)


def test_separable_potential_gives_the_product_of_one_dimensional_solutions():
    # V(x, y) = V1(x) + V2(y) and a product start: the 2-D generator is the Kronecker sum of
    # the 1-D ones, so the exact-in-time solutions factor (up to expm round-off).
    def first(x):
        return (x**2 - 4.0) ** 2 / 16.0

    def second(y):
        return 0.5 * (y - 1.0) ** 2

    start_x, start_y = np.exp(-(AXIS**2) / 8), np.exp(-((AXIS + 2) ** 2) / 2)
    times = [0.3, 2.0]
    joint = fokker_planck_2d(
        lambda p: first(p[..., 0]) + second(p[..., 1]),
        np.outer(start_x, start_y),
        AXIS,
        times,
    )
    along_x = fokker_planck_1d(first, start_x, AXIS, times)
    along_y = fokker_planck_1d(second, start_y, AXIS, times)
    for k in range(len(times)):
        np.testing.assert_allclose(joint[k], np.outer(along_x[k], along_y[k]), atol=1e-9)


def test_ou_variance_converges_at_second_order_and_mass_is_kept():
    # V = |x|^2 / 2 from N(0, 4 I): the variance per axis is 1 + 3 e^{-2t}.
    errors = []
    for nodes in (41, 81):
        axis = np.linspace(-8.0, 8.0, nodes)
        x, y = np.meshgrid(axis, axis, indexing="ij")
        (rho,) = fokker_planck_2d(
            lambda p: 0.5 * (p**2).sum(-1), np.exp(-(x**2 + y**2) / 8), axis, [0.5]
        )
        spacing = axis[1] - axis[0]
        assert abs(rho.sum() * spacing**2 - 1.0) < 1e-10
        errors.append(abs((x**2 * rho).sum() * spacing**2 - (1 + 3 * np.exp(-1.0))))
    # Halving the spacing divides an O(h^2) error by about 4 (3 to 5 allows the O(h^4) rest).
    assert 3.0 < errors[0] / errors[1] < 5.0
    # At spacing 0.2 the variance (2.10) is within 1 %.
    assert errors[1] < 0.021


def test_times_out_of_order_are_refused():
    start = np.ones((AXIS.size, AXIS.size))
    with pytest.raises(ValueError, match="non-negative and increasing"):
        fokker_planck_2d(lambda p: 0.5 * (p**2).sum(-1), start, AXIS, [1.0, 0.5])
