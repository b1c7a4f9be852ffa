"""``on_finite_rows``: a row-wise function sees only the finite rows; the others are NaN."""

from __future__ import annotations

import torch

from molgen.finite_rows import finite_rows, on_finite_rows


def _points() -> torch.Tensor:
    points = torch.arange(12, dtype=torch.float64).reshape(4, 3)
    points[1, 2] = torch.inf
    points[3, 0] = torch.nan
    return points


def test_the_function_sees_only_the_finite_rows_and_the_others_are_nan():
    seen = []

    def squared_norm(x):
        seen.append(x.shape[0])
        return x.square().sum(dim=1)

    points = _points()
    result = on_finite_rows(squared_norm, points)
    assert seen == [2]
    torch.testing.assert_close(result[[0, 2]], points[[0, 2]].square().sum(dim=1))
    assert torch.isnan(result[[1, 3]]).all()


def test_a_row_is_finite_only_where_every_input_is_and_none_is_passed_through():
    points = _points()
    context = torch.zeros(4, 2, dtype=torch.float64)
    context[0, 1] = torch.nan
    assert finite_rows(points, None, context).tolist() == [False, False, True, False]

    def with_context(x, nothing, c):
        assert nothing is None
        return x.sum(dim=1) + c.sum(dim=1)

    result = on_finite_rows(with_context, points, None, context)
    assert torch.isfinite(result).tolist() == [False, False, True, False]


def test_tuple_outputs_keep_their_trailing_shapes_even_when_no_row_is_finite():
    def pose(x):
        return x.unflatten(1, (1, 3)), x.sum(dim=1)

    everything_bad = torch.full((3, 3), torch.nan, dtype=torch.float64)
    shape, total = on_finite_rows(pose, everything_bad)
    assert shape.shape == (3, 1, 3) and total.shape == (3,)
    assert torch.isnan(shape).all() and torch.isnan(total).all()


def test_gradients_reach_the_finite_rows_and_stay_finite():
    points = _points().requires_grad_()
    result = on_finite_rows(lambda x: x.square().sum(dim=1), points)
    result[[0, 2]].sum().backward()
    expected = torch.zeros_like(points)
    expected[[0, 2]] = 2 * points.detach()[[0, 2]]
    torch.testing.assert_close(points.grad, expected)
