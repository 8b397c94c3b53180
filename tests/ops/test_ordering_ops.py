"""sort, argsort, topk (ops/ordering.py); expected values are MXNet 1.9.1's."""
import numpy as np
import pytest

from optest import run_op, shape_fails

X = np.array([[3, 1, 2, 1], [0, 5, 5, -1]], dtype=np.float32)


def test_sort_and_argsort():
    np.testing.assert_array_equal(run_op("sort", X)[0], [[1, 1, 2, 3], [-1, 0, 5, 5]])
    np.testing.assert_array_equal(run_op("sort", X, axis=None)[0],
                                  [-1, 0, 1, 1, 2, 3, 5, 5])
    (order,) = run_op("argsort", X, is_ascend=False)
    assert order.dtype == np.float32
    # ties keep their order, descending too
    np.testing.assert_array_equal(order, [[0, 2, 1, 3], [1, 2, 0, 3]])
    assert run_op("argsort", X, axis=0, dtype="int32")[0].dtype == np.int32


@pytest.mark.parametrize("attrs, expected", [
    ({"k": 2}, [[0, 2], [1, 2]]),
    ({"k": 2, "ret_typ": "value"}, [[3, 2], [5, 5]]),
    ({"k": 2, "ret_typ": "mask"}, [[1, 0, 1, 0], [0, 1, 1, 0]]),
    ({"k": 3, "axis": None}, [5, 6, 0]),
    ({"k": 1, "axis": 0, "is_ascend": True, "ret_typ": "value"}, [[0, 1, 2, -1]]),
])
def test_topk(attrs, expected):
    (out,) = run_op("topk", X, **attrs)
    np.testing.assert_array_equal(out, np.array(expected, np.float32))


def test_topk_both_and_errors():
    values, indices = run_op("topk", X, k=2, ret_typ="both")
    np.testing.assert_array_equal(values, [[3, 2], [5, 5]])
    np.testing.assert_array_equal(indices, [[0, 2], [1, 2]])
    shape_fails("topk", [(2, 4)], k=5, pattern="k=5")
    shape_fails("sort", [(2, 4)], axis=2)
