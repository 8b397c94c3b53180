"""Rearranging operators (ops/shape_ops.py) against plain numpy."""
import numpy as np
import pytest

from ast_hybrid.ops import get
from optest import rand, run_op, shape_fails

X = rand(2, 3, 4)


@pytest.mark.parametrize("shape, target, reverse, expected", [
    ((2, 3, 4), (0, -1), False, (2, 12)),
    ((2, 3, 4), (-1,), False, (24,)),
    ((2, 3, 4), (-2,), False, (2, 3, 4)),
    ((2, 3, 4), (-3, -2), False, (6, 4)),
    ((2, 3, 4), (0, -3), False, (2, 12)),
    ((2, 3, 4), (-4, 1, 2, -2), False, (1, 2, 3, 4)),
    ((2, 3, 4), (-4, -1, 1, 0, 0), False, (2, 1, 3, 4)),
    ((2, 3, 4), (0, 0, -4, 2, -1), False, (2, 3, 2, 2)),
    ((2, 3, 4), (4, 0, -1), False, (4, 3, 2)),
    ((2, 3, 4, 5), (-3, -3), False, (6, 20)),
    ((10, 5, 4), (-1, 0), True, (50, 4)),
    ((2, 3, 4), (-1, 0, 0), True, (2, 3, 4)),
    ((2, 3, 4), (6, 4), False, (6, 4)),
])
def test_reshape_special_codes(shape, target, reverse, expected):
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    (out,) = run_op("reshape", x, shape=target, reverse=reverse)
    assert out.shape == expected
    np.testing.assert_array_equal(out.ravel(), x.ravel())


@pytest.mark.parametrize("target", [(5, -1), (-1, -1), (0, 0, 0, 0), (7,), (-4, 5, -1, 0)])
def test_reshape_bad_target_names_operator_and_shape(target):
    shape_fails("reshape", [(2, 3, 4)], shape=target, pattern="cannot reshape")


def test_reshape_aliases_and_round_trip():
    op = get("Reshape")
    assert op is get("reshape")
    assert op.format_attrs(op.parse_attrs({"shape": (0, -1)}))["shape"] == "(0, -1)"


@pytest.mark.parametrize("axes", [(), (1, 0, 2), (2, 0, 1), (-1, 0, 1)])
def test_transpose(axes):
    (out,) = run_op("transpose", X, axes=axes)
    ref = X.transpose() if not axes else X.transpose([a % 3 for a in axes])
    np.testing.assert_array_equal(out, ref)


def test_transpose_bad_axes():
    shape_fails("transpose", [(2, 3, 4)], axes=(0, 0, 1), pattern="permutation")


@pytest.mark.parametrize("dim1, dim2", [(0, 2), (-1, 1), (1, 1)])
def test_swapaxes(dim1, dim2):
    (out,) = run_op("swapaxes", X, dim1=dim1, dim2=dim2)
    np.testing.assert_array_equal(out, np.swapaxes(X, dim1, dim2))
    assert get("SwapAxis") is get("swapaxes")


@pytest.mark.parametrize("shape", [(2, 3, 4), (5,), (2, 3), (4, 1, 1, 2)])
def test_flatten(shape):
    x = rand(*shape)
    (out,) = run_op("Flatten", x)
    np.testing.assert_array_equal(out, x.reshape(shape[0], -1))


@pytest.mark.parametrize("axis", [0, 1, 3, -1, -4])
def test_expand_dims(axis):
    (out,) = run_op("expand_dims", X, axis=axis)
    np.testing.assert_array_equal(out, np.expand_dims(X, axis))


def test_expand_dims_out_of_range():
    shape_fails("expand_dims", [(2, 3)], axis=3, pattern="axis 3")


@pytest.mark.parametrize("shape, axis, expected", [
    ((1, 3, 1), None, (3,)), ((1, 3, 1), (2,), (1, 3)), ((1, 3, 1), (0, -1), (3,)),
    ((1, 1), None, (1,))])
def test_squeeze(shape, axis, expected):
    x = rand(*shape)
    (out,) = run_op("squeeze", x, axis=axis)
    assert out.shape == expected
    np.testing.assert_array_equal(out.ravel(), x.ravel())


def test_squeeze_of_a_real_axis_fails():
    shape_fails("squeeze", [(1, 3)], axis=(1,), pattern="size 3")


@pytest.mark.parametrize("shapes, dim", [([(2, 1), (2, 3)], 1), ([(2, 1), (2, 3)], -1),
                                         ([(2, 4), (3, 4), (1, 4)], 0)])
def test_concat(shapes, dim):
    arrays = [rand(*s, seed=i) for i, s in enumerate(shapes)]
    (out,) = run_op("concat", *arrays, dim=dim)
    np.testing.assert_array_equal(out, np.concatenate(arrays, axis=dim))
    assert get("Concat") is get("concat")


def test_concat_mismatch():
    shape_fails("concat", [(2, 3), (3, 3)], dim=1, pattern=r"\(3, 3\)")


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack(axis):
    a, b = rand(2, 3), rand(2, 3, seed=5)
    (out,) = run_op("stack", a, b, axis=axis)
    np.testing.assert_array_equal(out, np.stack([a, b], axis=axis))


def test_stack_mismatch():
    shape_fails("stack", [(2, 3), (3, 2)], pattern=r"\(3, 2\)")


@pytest.mark.parametrize("shape, num, axis, squeeze", [((2, 6), 3, 1, False),
                                                       ((2, 6), 2, 0, True),
                                                       ((4, 6), 2, -1, False)])
def test_split(shape, num, axis, squeeze):
    x = rand(*shape)
    outs = run_op("split", x, num_outputs=num, axis=axis, squeeze_axis=squeeze)
    refs = np.split(x, num, axis=axis)
    if squeeze:
        refs = [np.squeeze(r, axis=axis) for r in refs]
    assert len(outs) == num
    for out, ref in zip(outs, refs):
        np.testing.assert_array_equal(out, ref)
    assert get("SliceChannel").output_count(get("split").parse_attrs({"num_outputs": 4})) == 4


def test_split_uneven():
    shape_fails("split", [(2, 5)], num_outputs=2, pattern="num_outputs=2")
    shape_fails("split", [(2, 6)], num_outputs=2, squeeze_axis=True, pattern="squeeze_axis")


@pytest.mark.parametrize("shape, reps", [((2, 3, 4), (2,)), ((3,), (2, 2)), ((2, 3), (1, 2))])
def test_tile(shape, reps):
    x = rand(*shape)
    (out,) = run_op("tile", x, reps=reps)
    np.testing.assert_array_equal(out, np.tile(x, reps))


@pytest.mark.parametrize("repeats, axis", [(2, None), (2, 1), (3, -1), (0, 0)])
def test_repeat(repeats, axis):
    (out,) = run_op("repeat", X, repeats=repeats, axis=axis)
    np.testing.assert_array_equal(out, np.repeat(X, repeats, axis=axis))


@pytest.mark.parametrize("shape, target, expected", [((2, 1), (2, 3), (2, 3)),
                                                     ((2, 1), (0, 3), (2, 3)),
                                                     ((1, 1, 4), (2, 3, 4), (2, 3, 4))])
def test_broadcast_to(shape, target, expected):
    x = rand(*shape)
    (out,) = run_op("broadcast_to", x, shape=target)
    np.testing.assert_array_equal(out, np.broadcast_to(x, expected))


def test_broadcast_to_bad_target():
    shape_fails("broadcast_to", [(2, 3)], shape=(4, 3), pattern="cannot broadcast")
    shape_fails("broadcast_to", [(2, 3)], shape=(1, 2, 3), pattern="2 dimensions")


def test_broadcast_like_and_axis():
    a, b = rand(2, 1), rand(2, 3)
    (out,) = run_op("broadcast_like", a, b)
    np.testing.assert_array_equal(out, np.broadcast_to(a, (2, 3)))
    a, b = rand(1, 3), rand(4, 5)
    (out,) = run_op("broadcast_like", a, b, lhs_axes=(0,), rhs_axes=(0,))
    np.testing.assert_array_equal(out, np.broadcast_to(a, (4, 3)))
    (out,) = run_op("broadcast_axis", rand(2, 1, 1), axis=(1, 2), size=(3, 4))
    assert out.shape == (2, 3, 4)
    shape_fails("broadcast_like", [(2, 3), (4, 3)], pattern="cannot broadcast")
    shape_fails("broadcast_axis", [(2, 3)], axis=(1,), size=(4,), pattern="not 1")


def test_reverse_and_its_flip_alias():
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(run_op("reverse", data, axis=1)[0], data[:, ::-1])
    np.testing.assert_array_equal(run_op("reverse", data, axis=(0, 1))[0], data[::-1, ::-1])
    assert get("flip") is get("reverse")
    shape_fails("reverse", [(2, 3)], axis=2)
