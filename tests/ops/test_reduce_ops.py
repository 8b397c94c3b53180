"""Reductions (ops/reduce.py) against plain numpy."""
import itertools

import numpy as np
import pytest

from ast_hybrid import ops
from optest import infer, rand, run_op, shape_fails

X = rand(2, 3, 4)

REFERENCES = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod}


def _reference(function, x, axis, keepdims, exclude):
    if axis is not None and exclude:
        axis = tuple(i for i in range(x.ndim) if i not in {a % x.ndim for a in axis})
    out = function(x.astype(np.float64), axis=axis, keepdims=keepdims)
    return np.asarray(out).reshape(-1) if np.ndim(out) == 0 else out


@pytest.mark.parametrize("name", sorted(REFERENCES))
@pytest.mark.parametrize("axis, keepdims, exclude", [
    (None, False, False), ((1,), False, False), ((0, 2), False, False), ((1,), True, False),
    ((-1,), False, False), ((1,), False, True), ((0, -1), True, True), (None, True, False)])
def test_reduction_matches_numpy(name, axis, keepdims, exclude):
    (out,) = run_op(name, X, axis=axis, keepdims=keepdims, exclude=exclude)
    np.testing.assert_allclose(out, _reference(REFERENCES[name], X, axis, keepdims, exclude),
                               rtol=1e-5, atol=1e-6)


def test_reduce_everything_gives_shape_1():
    (out,) = run_op("sum", X)
    assert out.shape == (1,)
    assert infer("sum", [(2, 3)], axis=(0, 1))[1] == [(1,)]


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "max"])
def test_integer_input_keeps_its_dtype(name):
    x = np.arange(1, 7, dtype=np.int32).reshape(2, 3)
    (out,) = run_op(name, x, axis=1)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, REFERENCES[name](x, axis=1).astype(np.int32))


def test_aliases():
    from ast_hybrid.ops import get
    assert get("sum_axis") is get("sum") and get("max_axis") is get("max")
    assert get("min_axis") is get("min")


@pytest.mark.parametrize("ord_, axis, keepdims", [(2, None, False), (1, None, False),
                                                  (2, (1,), False), (1, (0, 2), True),
                                                  (2, (-1,), True)])
def test_norm(ord_, axis, keepdims):
    (out,) = run_op("norm", X, ord=ord_, axis=axis, keepdims=keepdims)
    x = X.astype(np.float64)
    ref = (np.sum(np.abs(x), axis=axis, keepdims=keepdims) if ord_ == 1
           else np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims)))
    np.testing.assert_allclose(out, np.reshape(ref, out.shape), rtol=1e-5)


def test_norm_rejects_other_orders():
    from ast_hybrid.ops import OpError, get
    with pytest.raises(OpError, match="norm.*ord"):
        get("norm").parse_attrs({"ord": "3"})


@pytest.mark.parametrize("name, function", [("argmax", np.argmax), ("argmin", np.argmin)])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (None, True), (0, False), (1, True),
                                            (-1, False)])
def test_arg_reductions(name, function, axis, keepdims):
    x = np.array([[[3, 1, 3, 0], [2, 2, 5, 5], [0, 9, 1, 9]],
                  [[7, 7, 1, 1], [0, 0, 0, 0], [4, 6, 6, 4]]], dtype=np.float32)
    (out,) = run_op(name, x, axis=axis, keepdims=keepdims)
    if axis is None:
        ref = np.full((1,) * x.ndim if keepdims else (1,), function(x))
    else:
        ref = function(x, axis=axis)
        if keepdims:
            ref = np.expand_dims(ref, axis)
    assert out.dtype == np.float32          # indices come back in the input's dtype
    np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod", "norm", "argmax"])
def test_axis_out_of_range_names_operator_and_shape(name):
    axis = 3 if name == "argmax" else (3,)
    shape_fails(name, [(2, 3, 4)], axis=axis, pattern="axis 3")


def test_unknown_input_shape_is_an_error():
    shape_fails("sum", [None], pattern="unknown")


def test_kernel_accepts_an_unparsed_integer_axis():
    from ast_hybrid.ops import get
    np.testing.assert_allclose(get("sum")(X, axis=1), X.sum(axis=1), rtol=1e-6)
    assert get("squeeze")(np.zeros((2, 1, 3), np.float32), axis=1).shape == (2, 3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(1,), (1, 1), (3, 5), (2, 3, 4), (1, 2000)])
def test_mean_is_numpys_bit_for_bit(shape, dtype):
    rng = np.random.default_rng(len(shape))
    data = (rng.standard_normal(shape) * 100).astype(dtype)
    kernel = ops.get("mean").kernel
    for count in range(len(shape) + 1):
        for axis in itertools.combinations(range(len(shape)), count):
            for keepdims in (False, True):
                for exclude in (False, True) if axis else (False,):
                    got = kernel(data, axis=axis or None, keepdims=keepdims, exclude=exclude)
                    chosen = axis or None
                    if exclude:
                        chosen = tuple(i for i in range(len(shape)) if i not in axis)
                    want = np.mean(data, axis=chosen, keepdims=keepdims)
                    assert got.dtype == data.dtype
                    assert np.array_equal(got, np.asarray(want).reshape(got.shape))
