"""Ordering along an axis: sort, argsort, topk."""
import numpy as np

from . import attrs as A
from .grad_utils import no_grad
from .registry import Op, register, shape_error
from .shapes import known, normalize_axis


def _order(data, axis, is_ascend):
    """Indices that sort `data` along `axis` (stable; descending keeps equal values' order)."""
    return np.argsort(data if is_ascend else -data, axis=axis, kind="stable")


def _axis_or_flat(op_name, data, axis):
    """MXNet's axis=None: the flattened array, sorted along its only axis."""
    if axis is None:
        return data.reshape(-1), 0
    return data, normalize_axis(op_name, axis, data.ndim, (data,))


def _sort(data, *, axis=-1, is_ascend=True):
    flat, ax = _axis_or_flat("sort", data, axis)
    return np.take_along_axis(flat, _order(flat, ax, is_ascend), axis=ax)


def _argsort(data, *, axis=-1, is_ascend=True, dtype="float32"):
    flat, ax = _axis_or_flat("argsort", data, axis)
    return _order(flat, ax, is_ascend).astype(dtype)


def _scatter_grad(attrs, inputs, out_grad, indices, axis):
    """The gradient of gathering `indices` along `axis`: out_grad put back where it came from."""
    data = inputs[0]
    flat, ax = _axis_or_flat("sort", data, axis)
    grad = np.zeros_like(flat)
    np.put_along_axis(grad, indices, out_grad.reshape(indices.shape), axis=ax)
    return [grad.reshape(data.shape)]


def _sort_grad(attrs, inputs, outputs, out_grads):
    flat, ax = _axis_or_flat("sort", inputs[0], attrs["axis"])
    return _scatter_grad(attrs, inputs, out_grads[0], _order(flat, ax, attrs["is_ascend"]),
                         attrs["axis"])


def _ordered_shape(name):
    def rule(attrs, in_shapes):
        data = known(name, in_shapes)[0]
        if attrs["axis"] is None:
            return [data], [(int(np.prod(data, dtype=np.int64)),)]
        normalize_axis(name, attrs["axis"], len(data), in_shapes)
        return [data], [data]
    return rule


register(Op("sort", _sort, _ordered_shape("sort"), fluent=True, grad=_sort_grad,
            attrs={"axis": A.OptInt(-1), "is_ascend": A.Bool(True)}))
register(Op("argsort", _argsort, _ordered_shape("argsort"), fluent=True, grad=no_grad,
            attrs={"axis": A.OptInt(-1), "is_ascend": A.Bool(True), "dtype": A.Dtype()}))


def _topk_indices(data, axis, k, is_ascend):
    flat, ax = _axis_or_flat("topk", data, axis)
    _check_k(k, flat.shape[ax], (data,))
    order = _order(flat, ax, is_ascend)
    return flat, ax, np.take(order, np.arange(k), axis=ax)


def _topk(data, *, axis=-1, k=1, ret_typ="indices", is_ascend=False, dtype="float32"):
    flat, ax, indices = _topk_indices(data, axis, k, is_ascend)
    if ret_typ == "mask":
        mask = np.zeros_like(flat)
        np.put_along_axis(mask, indices, 1, axis=ax)
        return mask.reshape(data.shape)
    values = np.take_along_axis(flat, indices, axis=ax)
    if ret_typ == "value":
        return values
    if ret_typ == "indices":
        return indices.astype(dtype)
    return values, indices.astype(dtype)


def _check_k(k, size, shapes):
    """How many topk keeps, checked by rule and kernel (numpy would take fewer silently)."""
    if not 0 < k <= size:
        raise shape_error("topk", f"k={k} is not in 1..{size}", shapes)


def _topk_shape(attrs, in_shapes):
    data = known("topk", in_shapes)[0]
    if attrs["axis"] is None:
        _check_k(attrs["k"], int(np.prod(data, dtype=np.int64)), in_shapes)
        out = (attrs["k"],)
    else:
        axis = normalize_axis("topk", attrs["axis"], len(data), in_shapes)
        _check_k(attrs["k"], data[axis], in_shapes)
        out = data[:axis] + (attrs["k"],) + data[axis + 1:]
    if attrs["ret_typ"] == "mask":
        return [data], [data]
    return [data], [out, out] if attrs["ret_typ"] == "both" else [out]


def _topk_grad(attrs, inputs, outputs, out_grads):
    if attrs["ret_typ"] not in ("value", "both"):
        return [None]
    _, _, indices = _topk_indices(inputs[0], attrs["axis"], attrs["k"], attrs["is_ascend"])
    return _scatter_grad(attrs, inputs, out_grads[0], indices, attrs["axis"])


register(Op("topk", _topk, _topk_shape, fluent=True, grad=_topk_grad,
            num_outputs=lambda attrs: 2 if attrs["ret_typ"] == "both" else 1,
            attrs={"axis": A.OptInt(-1), "k": A.Int(1),
                   "ret_typ": A.Str("indices", ("value", "indices", "mask", "both")),
                   "is_ascend": A.Bool(False), "dtype": A.Dtype()}))
