"""Matrix products: dot and batch_dot."""
import numpy as np

from . import attrs as A
from .registry import Op, register, shape_error
from .shapes import known, require

_PRODUCT_ATTRS = {"transpose_a": A.Bool(False), "transpose_b": A.Bool(False),
                  "forward_stype": A.OptStr(None, ("default", "csr", "row_sparse"))}


def _dot(lhs, rhs, *, transpose_a=False, transpose_b=False, forward_stype=None):
    """MXNet's dot: contracts lhs's last axis (first if transpose_a) with rhs's first (last)."""
    if lhs.ndim == 2 and rhs.ndim == 2:
        return np.matmul(lhs.T if transpose_a else lhs, rhs.T if transpose_b else rhs)
    out = np.tensordot(lhs, rhs, axes=(0 if transpose_a else lhs.ndim - 1,
                                       rhs.ndim - 1 if transpose_b else 0))
    return out.reshape(1) if out.ndim == 0 else out


def _dot_shape(attrs, in_shapes):
    lhs, rhs = known("dot", in_shapes)
    require(lhs and rhs, "dot", "inputs must have at least one dimension", in_shapes)
    if attrs["transpose_a"]:
        k_lhs, free_lhs = lhs[0], lhs[1:]
    else:
        k_lhs, free_lhs = lhs[-1], lhs[:-1]
    if attrs["transpose_b"]:
        k_rhs, free_rhs = rhs[-1], rhs[:-1]
    else:
        k_rhs, free_rhs = rhs[0], rhs[1:]
    require(k_lhs == k_rhs, "dot", f"contracted dimensions differ ({k_lhs} vs {k_rhs}) with "
            f"transpose_a={attrs['transpose_a']}, transpose_b={attrs['transpose_b']}", in_shapes)
    return [lhs, rhs], [free_lhs + free_rhs or (1,)]


def _dot_grad(attrs, inputs, outputs, out_grads):
    lhs, rhs = inputs
    ta, tb = attrs["transpose_a"], attrs["transpose_b"]
    if lhs.ndim == 2 and rhs.ndim == 2:
        a = lhs.T if ta else lhs
        b = rhs.T if tb else rhs
        g = out_grads[0]
        d_a, d_b = np.matmul(g, b.T), np.matmul(a.T, g)
        return [d_a.T if ta else d_a, d_b.T if tb else d_b]
    # move the contracted axis last in lhs and first in rhs, as the plain product has it
    a = np.moveaxis(lhs, 0, -1) if ta else lhs
    b = np.moveaxis(rhs, -1, 0) if tb else rhs
    free_a, free_b = a.shape[:-1], b.shape[1:]
    g = out_grads[0].reshape(free_a + free_b)
    na, nb = len(free_a), len(free_b)
    d_a = np.tensordot(g, b, axes=(tuple(range(na, na + nb)), tuple(range(1, nb + 1))))
    d_b = np.tensordot(a, g, axes=(tuple(range(na)), tuple(range(na))))
    d_a = np.moveaxis(d_a, -1, 0) if ta else d_a
    d_b = np.moveaxis(d_b, 0, -1) if tb else d_b
    return [d_a.reshape(lhs.shape), d_b.reshape(rhs.shape)]


register(Op("dot", _dot, _dot_shape, inputs=("lhs", "rhs"), attrs=dict(_PRODUCT_ATTRS),
            grad=_dot_grad))


def _batch_dot(lhs, rhs, *, transpose_a=False, transpose_b=False, forward_stype=None):
    _check_batch_dims(lhs.shape, rhs.shape, (lhs, rhs))
    if transpose_a:
        lhs = np.swapaxes(lhs, -1, -2)
    if transpose_b:
        rhs = np.swapaxes(rhs, -1, -2)
    return np.matmul(lhs, rhs)


def _check_batch_dims(lhs, rhs, shapes):
    """batch_dot's batch dimensions, checked by rule and kernel (np.matmul would broadcast)."""
    if len(lhs) < 3 or len(lhs) != len(rhs):
        raise shape_error("batch_dot", "inputs must have the same number of dimensions, "
                          "at least 3", shapes)
    if lhs[:-2] != rhs[:-2]:
        raise shape_error("batch_dot", "batch dimensions differ", shapes)


def _batch_dot_shape(attrs, in_shapes):
    lhs, rhs = known("batch_dot", in_shapes)
    _check_batch_dims(lhs, rhs, in_shapes)
    m, k = (lhs[-1], lhs[-2]) if attrs["transpose_a"] else (lhs[-2], lhs[-1])
    k2, n = (rhs[-1], rhs[-2]) if attrs["transpose_b"] else (rhs[-2], rhs[-1])
    require(k == k2, "batch_dot", f"contracted dimensions differ ({k} vs {k2}) with "
            f"transpose_a={attrs['transpose_a']}, transpose_b={attrs['transpose_b']}", in_shapes)
    return [lhs, rhs], [lhs[:-2] + (m, n)]


def _batch_dot_grad(attrs, inputs, outputs, out_grads):
    lhs, rhs = inputs
    ta, tb = attrs["transpose_a"], attrs["transpose_b"]
    a = np.swapaxes(lhs, -1, -2) if ta else lhs
    b = np.swapaxes(rhs, -1, -2) if tb else rhs
    g = out_grads[0]
    d_a = np.matmul(g, np.swapaxes(b, -1, -2))
    d_b = np.matmul(np.swapaxes(a, -1, -2), g)
    return [np.swapaxes(d_a, -1, -2) if ta else d_a, np.swapaxes(d_b, -1, -2) if tb else d_b]


register(Op("batch_dot", _batch_dot, _batch_dot_shape, inputs=("lhs", "rhs"),
            attrs=dict(_PRODUCT_ATTRS), grad=_batch_dot_grad))
