"""Selecting elements: slice, slice_axis, take, pick, one_hot, where."""
import numpy as np

from . import attrs as A
from .grad_utils import no_grad
from .registry import Op, OpError, check_arrays, register, shape_error
from .shapes import known, normalize_axis, require


def _slices(op_name, shape, begin, end, step, shapes):
    """Python slice objects for MXNet's begin/end/step tuples (entries may be None)."""
    require(len(begin) == len(end) and len(begin) <= len(shape)
            and (not step or len(step) == len(begin)), op_name,
            f"begin={begin}, end={end}, step={step} must have equal lengths, at most the "
            f"input's {len(shape)} dimensions", shapes)
    step = step or (None,) * len(begin)
    require(all(s != 0 for s in step), op_name, "step cannot be 0", shapes)
    return tuple(slice(b, e, s) for b, e, s in zip(begin, end, step))


def _slice(data, *, begin, end, step=()):
    return data[_slices("slice", data.shape, begin, end, step, [data.shape])]


def _slice_shape(attrs, in_shapes):
    data = known("slice", in_shapes)[0]
    keys = _slices("slice", data, attrs["begin"], attrs["end"], attrs["step"], in_shapes)
    out = tuple(len(range(*k.indices(n))) for k, n in zip(keys, data)) + data[len(keys):]
    return [data], [out]


def _slice_grad(attrs, inputs, outputs, out_grads):
    data = inputs[0]
    d = np.zeros_like(data)
    d[_slices("slice", data.shape, attrs["begin"], attrs["end"], attrs["step"],
              [data.shape])] = out_grads[0]
    return [d]


register(Op("slice", _slice, _slice_shape, fluent=True, grad=_slice_grad,
            attrs={"begin": A.IndexTuple(), "end": A.IndexTuple(), "step": A.IndexTuple(())}))


def _slice_axis(data, *, axis, begin, end=None):
    axis = normalize_axis("slice_axis", axis, data.ndim, (data,))
    key = [slice(None)] * data.ndim
    key[axis] = slice(begin, end)
    out = data[tuple(key)]
    if not out.shape[axis]:
        raise _selects_nothing(axis, begin, end, data.shape, (data,))
    return out


def _selects_nothing(axis, begin, end, shape, shapes):
    return shape_error("slice_axis", f"begin={begin}, end={end} selects nothing on axis "
                       f"{axis} of size {shape[axis]}", shapes)


def _slice_axis_shape(attrs, in_shapes):
    data = known("slice_axis", in_shapes)[0]
    axis = normalize_axis("slice_axis", attrs["axis"], len(data), in_shapes)
    size = len(range(*slice(attrs["begin"], attrs["end"]).indices(data[axis])))
    if not size:
        raise _selects_nothing(axis, attrs["begin"], attrs["end"], data, in_shapes)
    return [data], [data[:axis] + (size,) + data[axis + 1:]]


def _slice_axis_grad(attrs, inputs, outputs, out_grads):
    data = inputs[0]
    key = [slice(None)] * data.ndim
    key[attrs["axis"]] = slice(attrs["begin"], attrs["end"])
    d = np.zeros_like(data)
    d[tuple(key)] = out_grads[0]
    return [d]


register(Op("slice_axis", _slice_axis, _slice_axis_shape, fluent=True, grad=_slice_axis_grad,
            attrs={"axis": A.Int(), "begin": A.Int(), "end": A.OptInt()}))


def _positions(op_name, indices, size, mode):
    """Integer positions from (possibly float) indices, clipped or wrapped into [0, size)."""
    positions = indices.astype(np.intp, copy=False)
    if mode == "wrap":
        return np.mod(positions, size)
    if mode == "raise" and positions.size and (positions.min() < 0 or positions.max() >= size):
        raise OpError(f"{op_name}: index out of range [0, {size}) with mode='raise'")
    # np.clip's checks of its bounds cost more than clipping a few labels
    return np.minimum(np.maximum(positions, 0), size - 1)


def _take(a, indices, *, axis=0, mode="clip"):
    axis = normalize_axis("take", axis, a.ndim, (a, indices))
    return np.take(a, _positions("take", indices, a.shape[axis], mode), axis=axis)


def _take_shape(attrs, in_shapes):
    a, indices = known("take", in_shapes)
    axis = normalize_axis("take", attrs["axis"], len(a), in_shapes)
    require(a[axis] > 0, "take", f"axis {axis} is empty", in_shapes)
    return [a, indices], [a[:axis] + indices + a[axis + 1:]]


def _take_grad(attrs, inputs, outputs, out_grads):
    a, indices = inputs
    axis = attrs["axis"] % a.ndim
    positions = _positions("take", indices, a.shape[axis], attrs["mode"])
    d = np.zeros_like(a)
    np.add.at(d, (slice(None),) * axis + (positions,), out_grads[0].astype(a.dtype, copy=False))
    return [d, None]


register(Op("take", _take, _take_shape, inputs=("a", "indices"), fluent=True, grad=_take_grad,
            attrs={"axis": A.Int(0), "mode": A.Str("clip", ("clip", "raise", "wrap"))}))


def _pick(data, index, *, axis=-1, keepdims=False, mode="clip"):
    if axis is None:
        data, axis = data.reshape(-1), 0
    else:
        axis = normalize_axis("pick", axis, data.ndim, (data, index))
    positions = _positions("pick", index, data.shape[axis], mode)
    if data.ndim == 2 and axis == 1 and positions.ndim == 1:
        # one pick per row (a classifier's label scores): plain fancy indexing
        out = data[np.arange(data.shape[0]), positions]
        return out[:, None] if keepdims else out
    if positions.ndim == data.ndim - 1:
        positions = np.expand_dims(positions, axis)
    out = np.take_along_axis(data, positions, axis=axis)
    return out if keepdims else np.squeeze(out, axis=axis)


def _index_shapes(shape, axis):
    """(without the axis, with it kept as 1): the index shapes pick takes for data of `shape`
    along `axis` (an index in [0, ndim), or None for the data flattened), the first also
    its output's shape."""
    if axis is None:
        return (), (1,)
    return shape[:axis] + shape[axis + 1:], shape[:axis] + (1,) + shape[axis + 1:]


def _pick_shape(attrs, in_shapes):
    data = known("pick", in_shapes, 1)[0]
    axis = None if attrs["axis"] is None else \
        normalize_axis("pick", attrs["axis"], len(data), in_shapes)
    reduced, kept = _index_shapes(tuple(data), axis)
    index = in_shapes[1]
    if index is None:
        index = kept if attrs["keepdims"] else reduced
    require(tuple(index) in (reduced, kept), "pick",
            f"index must have shape {reduced} (or {kept})", in_shapes)
    return [data, tuple(index)], [kept if attrs["keepdims"] else reduced]


def _pick_grad(attrs, inputs, outputs, out_grads):
    data, index = inputs
    return [_pick_gradient(data, index, out_grads[0], attrs["axis"], attrs["mode"]), None]


def _pick_gradient(data, index, g, axis, mode):
    """The gradient of pick's data: g at the picked positions, zero elsewhere."""
    # C order whatever the data's, so that the flat view below is the array itself
    d = np.zeros(data.shape, data.dtype)
    if axis is None:
        flat, axis = d.reshape(-1), 0
    else:
        flat, axis = d, axis % data.ndim
    size = flat.shape[axis]
    if axis == flat.ndim - 1 and mode == "clip" and index.size * size == flat.size:
        # the last axis (a classifier's labels): one scatter through flat positions, without
        # put_along_axis's index grids; clipped as _positions clips
        positions = np.minimum(np.maximum(index.astype(np.intp).reshape(-1), 0), size - 1)
        positions += np.arange(0, flat.size, size, dtype=np.intp)
        d.reshape(-1)[positions] = g.reshape(-1)
        return d
    positions = _positions("pick", index, size, mode)
    if positions.ndim == flat.ndim - 1:
        positions = np.expand_dims(positions, axis)
    np.put_along_axis(flat, positions, g.reshape(positions.shape), axis=axis)
    return d


def _pick_index_fits(data, index, axis):
    """Whether pick's shape rule accepts this index for this data (numpy would broadcast
    some it refuses)."""
    if axis is not None:
        if not -data.ndim <= axis < data.ndim:
            return False
        axis %= data.ndim
    return index.shape in _index_shapes(data.shape, axis)


def _pick_specialize(attrs):
    axis, keepdims, mode = attrs["axis"], attrs["keepdims"], attrs["mode"]

    def pick(data, index):     # _pick's outputs are new arrays: no fresh_outputs wrapper
        if not _pick_index_fits(data, index, axis):
            check_arrays("pick", attrs, (data, index))
        return _pick(data, index, axis=axis, keepdims=keepdims, mode=mode)
    return pick


def _pick_grad_specialize(attrs):
    axis, mode = attrs["axis"], attrs["mode"]

    def pick_grad(data, index, output, out_grad):
        # the index is reached too: a zero gradient, as `reaching` gives the table's form
        return [_pick_gradient(data, index, out_grad, axis, mode),
                np.zeros(index.shape, index.dtype)]
    return pick_grad


register(Op("pick", _pick, _pick_shape, inputs=("data", "index"), fluent=True, grad=_pick_grad,
            specialize=_pick_specialize, specialize_grad=_pick_grad_specialize,
            attrs={"axis": A.OptInt(-1), "keepdims": A.Bool(False),
                   "mode": A.Str("clip", ("clip", "wrap"))}))


def _one_hot(indices, *, depth, on_value=1.0, off_value=0.0, dtype="float32"):
    _check_depth(depth, (indices,))
    positions = indices.astype(np.intp, copy=False)
    hot = positions[..., None] == np.arange(depth)
    out = np.full(hot.shape, off_value, dtype=dtype)
    out[hot] = on_value
    return out


def _check_depth(depth, shapes):
    """one_hot's depth, checked by rule and kernel (numpy would make empty rows of it)."""
    if depth <= 0:
        raise shape_error("one_hot", f"depth={depth} must be positive", shapes)


def _one_hot_shape(attrs, in_shapes):
    indices = known("one_hot", in_shapes)[0]
    _check_depth(attrs["depth"], in_shapes)
    return [indices], [indices + (attrs["depth"],)]


register(Op("one_hot", _one_hot, _one_hot_shape, inputs=("indices",), fluent=True, grad=no_grad,
            attrs={"depth": A.Int(), "on_value": A.Float(1.0), "off_value": A.Float(0.0),
                   "dtype": A.Dtype("float32")}))


def _where(condition, x, y):
    _check_where(condition.shape, x.shape, y.shape, (condition, x, y))
    if condition.ndim == 1 and x.ndim > 1:
        condition = condition.reshape((-1,) + (1,) * (x.ndim - 1))
    return np.where(condition != 0, x, y)


def _check_where(condition, x, y, shapes):
    """where's shapes, checked by rule and kernel alike (np.where would broadcast them)."""
    require(x == y, "where", "x and y must have the same shape", shapes)
    require(condition == x or (len(condition) == 1 and x and condition[0] == x[0]), "where",
            "condition must have the shape of x, or be 1-d with x's first dimension", shapes)


def _where_shape(attrs, in_shapes):
    condition, x, y = known("where", in_shapes)
    _check_where(condition, x, y, in_shapes)
    return [condition, x, y], [x]


def _where_grad(attrs, inputs, outputs, out_grads):
    condition, x, y = inputs
    if condition.ndim == 1 and x.ndim > 1:
        condition = condition.reshape((-1,) + (1,) * (x.ndim - 1))
    chosen = condition != 0
    g = out_grads[0]
    return [None, np.where(chosen, g, 0).astype(x.dtype, copy=False),
            np.where(chosen, 0, g).astype(y.dtype, copy=False)]


register(Op("where", _where, _where_shape, inputs=("condition", "x", "y"), grad=_where_grad))
