"""Selection operators (ops/indexing.py) against plain numpy and loops."""
import numpy as np
import pytest

from ast_hybrid.ops import OpError, get
from optest import rand, run_op, shape_fails

Y = rand(4, 5, 6)


@pytest.mark.parametrize("shape, begin, end, step", [
    ((4, 5, 6), (1,), (3,), ()), ((4, 5, 6), (None, 2), (None, 4), ()),
    ((10,), (None,), (None,), (-2,)), ((10,), (8,), (2,), (-3,)),
    ((4, 5, 6), (-3, None), (None, -1), (1, 2)), ((4, 5, 6), (0, 1, 2), (4, 5, 6), (2, 2, 2)),
    ((4, 5, 6), (3,), (None,), (-1,)), ((4, 5, 6), (1, None), (2, None), (None, None))])
def test_slice(shape, begin, end, step):
    x = rand(*shape)
    (out,) = run_op("slice", x, begin=begin, end=end, step=step)
    key = tuple(slice(b, e, s) for b, e, s in zip(begin, end, step or (None,) * len(begin)))
    np.testing.assert_array_equal(out, x[key])


def test_slice_attrs_with_none_round_trip_as_mxnet_writes_them():
    op = get("slice")
    attrs = op.parse_attrs({"begin": "(0, None)", "end": "(2, None)"})
    assert attrs["begin"] == (0, None) and attrs["step"] == ()
    assert op.format_attrs(attrs)["begin"] == "(0, None)"


def test_slice_errors():
    shape_fails("slice", [(4, 5)], begin=(0, 0, 0), end=(1, 1, 1), pattern="at most")
    shape_fails("slice", [(4, 5)], begin=(0,), end=(1,), step=(0,), pattern="step cannot be 0")


@pytest.mark.parametrize("axis, begin, end", [(1, 1, 3), (-1, -3, None), (0, 1, -1)])
def test_slice_axis(axis, begin, end):
    (out,) = run_op("slice_axis", Y, axis=axis, begin=begin, end=end)
    np.testing.assert_array_equal(out, np.moveaxis(np.moveaxis(Y, axis, 0)[begin:end], 0, axis))


def test_slice_axis_empty():
    shape_fails("slice_axis", [(4, 5)], axis=1, begin=3, end=2, pattern="selects nothing")


def _naive_take(a, idx, axis, mode):
    n = a.shape[axis]
    flat = []
    for i in np.asarray(idx).ravel():
        i = int(i)
        i = i % n if mode == "wrap" else min(max(i, 0), n - 1)
        flat.append(np.take(a, i, axis=axis))
    out = np.stack(flat, axis=axis)
    return out.reshape(a.shape[:axis] + np.shape(idx) + a.shape[axis + 1:])


@pytest.mark.parametrize("shape, idx, axis, mode", [
    ((3, 4), [-1, 5, 1.7, 0], 0, "clip"), ((3, 4), [[-1, 5], [1.7, 0]], 1, "wrap"),
    ((3, 4, 2), [3, 1], -2, "clip")])
def test_take(shape, idx, axis, mode):
    a = rand(*shape)
    idx = np.array(idx, dtype=np.float32)
    (out,) = run_op("take", a, idx, axis=axis, mode=mode)
    np.testing.assert_array_equal(out, _naive_take(a, idx, axis % a.ndim, mode))


def test_take_raise_mode():
    with pytest.raises(OpError, match="take.*out of range"):
        get("take")(rand(3), np.array([5.0], np.float32), axis=0, mode="raise")


@pytest.mark.parametrize("shape, idx, axis, keepdims, mode", [
    ((3, 4), [-1, 5, 2], -1, False, "clip"), ((3, 4), [-1, 5, 2, 1], 0, False, "wrap"),
    ((3, 4, 2), [[1, 0], [2, 3], [0, 0]], 1, True, "clip")])
def test_pick(shape, idx, axis, keepdims, mode):
    data = rand(*shape)
    idx = np.array(idx, dtype=np.float32)
    (out,) = run_op("pick", data, idx, axis=axis, keepdims=keepdims, mode=mode)
    moved = np.moveaxis(data, axis, -1)
    n = moved.shape[-1]
    ref = np.empty(moved.shape[:-1], np.float32)
    for pos in np.ndindex(*ref.shape):
        i = int(idx[pos])
        ref[pos] = moved[pos + (i % n if mode == "wrap" else min(max(i, 0), n - 1),)]
    if keepdims:
        ref = np.expand_dims(ref, axis)
    np.testing.assert_array_equal(out, ref)


def test_pick_bad_index_shape():
    shape_fails("pick", [(3, 4), (4,)], pattern="index must have shape")


@pytest.mark.parametrize("idx, depth, on, off, dtype", [
    ([-1, 1, 5, 1.7], 3, 1.0, 0.0, "float32"), ([[0, 2], [1, 1]], 4, 5.0, -1.0, "int32")])
def test_one_hot(idx, depth, on, off, dtype):
    idx = np.array(idx, dtype=np.float32)
    (out,) = run_op("one_hot", idx, depth=depth, on_value=on, off_value=off, dtype=dtype)
    ref = np.full(idx.shape + (depth,), off, dtype=dtype)
    for pos in np.ndindex(*idx.shape):
        if 0 <= int(idx[pos]) < depth:
            ref[pos + (int(idx[pos]),)] = on
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out, ref)


def test_where():
    x, y = rand(2, 3), rand(2, 3, seed=9)
    cond = np.array([[1, 0, 2], [0, 0, 1]], np.float32)
    (out,) = run_op("where", cond, x, y)
    np.testing.assert_array_equal(out, np.where(cond != 0, x, y))
    (out,) = run_op("where", np.array([0, 1], np.float32), x, y)
    np.testing.assert_array_equal(out, np.stack([y[0], x[1]]))
    shape_fails("where", [(3,), (2, 3), (2, 3)], pattern="condition")
    shape_fails("where", [(2, 3), (2, 3), (3, 2)], pattern="same shape")
