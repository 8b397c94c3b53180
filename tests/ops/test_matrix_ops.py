"""dot and batch_dot (ops/matrix.py) against naive loops."""
import numpy as np
import pytest

from optest import rand, run_op, shape_fails


def _naive_dot(a, b, transpose_a, transpose_b):
    """MXNet's dot: contract a's last axis (first if transpose_a) with b's first (last)."""
    a = np.moveaxis(a, 0, -1) if transpose_a else a
    b = np.moveaxis(b, -1, 0) if transpose_b else b
    out = np.zeros(a.shape[:-1] + b.shape[1:])
    for i in np.ndindex(*a.shape[:-1]):
        for j in np.ndindex(*b.shape[1:]):
            out[i + j] = sum(float(a[i + (k,)]) * float(b[(k,) + j]) for k in range(a.shape[-1]))
    return out.reshape(1) if out.ndim == 0 else out


@pytest.mark.parametrize("a_shape, b_shape, ta, tb", [
    ((3, 4), (4, 5), False, False), ((4, 3), (4, 5), True, False),
    ((3, 4), (5, 4), False, True), ((4, 3), (5, 4), True, True),
    ((2, 3, 4), (4, 5), False, False), ((3, 2, 4), (3, 5), True, False),
    ((3, 4), (2, 5, 4), False, True), ((4,), (4,), False, False), ((4,), (4, 2), False, False)])
def test_dot(a_shape, b_shape, ta, tb):
    a, b = rand(*a_shape), rand(*b_shape, seed=1)
    (out,) = run_op("dot", a, b, transpose_a=ta, transpose_b=tb)
    np.testing.assert_allclose(out, _naive_dot(a, b, ta, tb), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("a_shape, b_shape, ta, tb", [
    ((2, 3, 4), (2, 4, 5), False, False), ((2, 4, 3), (2, 4, 5), True, False),
    ((2, 3, 4), (2, 5, 4), False, True), ((2, 4, 3), (2, 5, 4), True, True),
    ((2, 3, 2, 4), (2, 3, 4, 1), False, False)])
def test_batch_dot(a_shape, b_shape, ta, tb):
    a, b = rand(*a_shape), rand(*b_shape, seed=1)
    (out,) = run_op("batch_dot", a, b, transpose_a=ta, transpose_b=tb)
    batch = a_shape[:-2]
    ref = np.stack([_naive_dot(a[i].T if ta else a[i], b[i].T if tb else b[i], False, False)
                    for i in np.ndindex(*batch)]).reshape(out.shape)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_dot_mismatch_names_operator_and_shapes():
    shape_fails("dot", [(2, 3), (4, 5)], pattern=r"\(4, 5\)")
    shape_fails("dot", [(2, 3), (2, 5)], transpose_a=False, pattern="contracted")


def test_batch_dot_errors():
    shape_fails("batch_dot", [(2, 3, 4), (3, 4, 5)], pattern="batch dimensions")
    shape_fails("batch_dot", [(2, 3, 4), (2, 3, 5)], pattern="contracted")
    shape_fails("batch_dot", [(3, 4), (4, 5)], pattern="at least 3")
