"""Operators that rearrange elements: reshape, transpose, concat, stack, split, tile, ..."""
import numpy as np

from . import attrs as A
from .grad_utils import reshape_grad, unbroadcast
from .registry import REGISTRY, VARIADIC, Op, check_arrays, register, shape_error
from .shapes import as_tuple, known, normalize_axes, normalize_axis, require


def _size(shape):
    return int(np.prod(shape, dtype=np.int64))


def reshape_target(op_name, shape, target, reverse=False):
    """The shape `target` means for an input of `shape`, with MXNet's codes 0, -1, -2, -3, -4."""
    source = list(shape)[::-1] if reverse else list(shape)
    codes = list(target)[::-1] if reverse else list(target)
    out, infer_at, src, i = [], None, 0, 0

    def fail(message):
        return shape_error(op_name, f"cannot reshape to {tuple(target)}: {message}", [shape])

    while i < len(codes):
        code = codes[i]
        if code == 0:
            if src >= len(source):
                raise fail("0 copies a dimension the input does not have")
            out.append(source[src])
            src += 1
        elif code == -1:
            if infer_at is not None:
                raise fail("only one dimension can be -1")
            infer_at = len(out)
            out.append(1)
            src += 1
        elif code == -2:
            out.extend(source[src:])
            src = len(source)
        elif code == -3:
            if src + 1 >= len(source):
                raise fail("-3 needs two input dimensions to merge")
            out.append(source[src] * source[src + 1])
            src += 2
        elif code == -4:
            if i + 2 >= len(codes) or src >= len(source):
                raise fail("-4 needs two following sizes and an input dimension to split")
            whole, d1, d2 = source[src], codes[i + 1], codes[i + 2]
            src += 1
            i += 2
            if d1 == -1 and d2 == -1:
                raise fail("the two sizes after -4 cannot both be -1")
            if d1 == -1:
                d1 = whole // d2 if d2 else 0
            if d2 == -1:
                d2 = whole // d1 if d1 else 0
            if d1 * d2 != whole:
                raise fail(f"{d1} * {d2} does not split dimension {whole}")
            out.extend((d1, d2))
        elif code > 0:
            out.append(code)
            src += 1
        else:
            raise fail(f"unknown code {code}")
        i += 1
    if infer_at is not None:
        rest = _size(out)
        if rest == 0 or _size(shape) % rest:
            raise fail("the size cannot be divided evenly for -1")
        out[infer_at] = _size(shape) // rest
    if reverse:
        out.reverse()
    if _size(out) != _size(shape):
        raise fail(f"sizes differ ({_size(shape)} elements vs {_size(out)})")
    return tuple(out)


def _reshape(data, *, shape=(), reverse=False, target_shape=(), keep_highest=False):
    return data.reshape(reshape_target("reshape", data.shape, shape, reverse))


def _reshape_shape(attrs, in_shapes):
    data = known("reshape", in_shapes)[0]
    return [data], [reshape_target("reshape", data, attrs["shape"], attrs["reverse"])]


register(Op("reshape", _reshape, _reshape_shape, aliases=("Reshape",), fluent=True,
            grad=reshape_grad,
            attrs={"shape": A.Shape(()), "reverse": A.Bool(False),
                   "target_shape": A.Shape(()), "keep_highest": A.Bool(False)}))


def _span(op_name, begin, end, ndim, shapes):
    """reshape_like's [begin, end) of one input's axes: None is 0 or ndim, negative counts from
    the end (as MXNet 1.9.1)."""
    begin = 0 if begin is None else begin + ndim if begin < 0 else begin
    end = ndim if end is None else end + ndim if end < 0 else end
    require(0 <= begin <= end <= ndim, op_name,
            f"axes [{begin}, {end}) do not lie within {ndim} dimensions", shapes)
    return begin, end


def _reshape_like_target(lhs, rhs, attrs, shapes):
    """The shape reshape_like gives lhs: its axes [lhs_begin, lhs_end) replaced by rhs's
    [rhs_begin, rhs_end) (checked by rule and kernel alike)."""
    lb, le = _span("reshape_like", attrs["lhs_begin"], attrs["lhs_end"], len(lhs), shapes)
    rb, re_ = _span("reshape_like", attrs["rhs_begin"], attrs["rhs_end"], len(rhs), shapes)
    out = tuple(lhs[:lb]) + tuple(rhs[rb:re_]) + tuple(lhs[le:])
    require(_size(lhs) == _size(out), "reshape_like",
            f"cannot reshape {_size(lhs)} elements into {out}", shapes)
    return out


def _reshape_like(lhs, rhs, *, lhs_begin=None, lhs_end=None, rhs_begin=None, rhs_end=None):
    attrs = {"lhs_begin": lhs_begin, "lhs_end": lhs_end, "rhs_begin": rhs_begin,
             "rhs_end": rhs_end}
    return lhs.reshape(_reshape_like_target(lhs.shape, rhs.shape, attrs, (lhs, rhs)))


def _reshape_like_shape(attrs, in_shapes):
    lhs, rhs = known("reshape_like", in_shapes)
    return [lhs, rhs], [_reshape_like_target(lhs, rhs, attrs, in_shapes)]


register(Op("reshape_like", _reshape_like, _reshape_like_shape, inputs=("lhs", "rhs"),
            grad=reshape_grad, fluent=True,
            attrs={"lhs_begin": A.OptInt(), "lhs_end": A.OptInt(), "rhs_begin": A.OptInt(),
                   "rhs_end": A.OptInt()}))


def _slice_like_key(data, like, axes, shapes):
    """slice_like's slices of data: the leading like[axis] entries of each axis in `axes`
    (every axis when empty, then both inputs need as many dimensions)."""
    axes = as_tuple(axes)
    if not axes:
        require(len(data) == len(like), "slice_like",
                "without axes, data and shape_like must have as many dimensions", shapes)
        axes = range(len(data))
    key = [slice(None)] * len(data)
    for axis in axes:
        axis = normalize_axis("slice_like", axis, len(data), shapes)
        require(axis < len(like) and like[axis] <= data[axis], "slice_like",
                f"shape_like's axis {axis} must exist and be at most data's", shapes)
        key[axis] = slice(0, like[axis])
    return tuple(key)


def _slice_like(data, shape_like, *, axes=()):
    return data[_slice_like_key(data.shape, shape_like.shape, axes, (data, shape_like))]


def _slice_like_shape(attrs, in_shapes):
    data, like = known("slice_like", in_shapes)
    key = _slice_like_key(data, like, attrs["axes"], in_shapes)
    return [data, like], [tuple(len(range(*k.indices(n))) for k, n in zip(key, data))]


def _slice_like_grad(attrs, inputs, outputs, out_grads):
    data, like = inputs
    d = np.zeros_like(data)
    d[_slice_like_key(data.shape, like.shape, attrs["axes"], inputs)] = out_grads[0]
    return [d, None]


register(Op("slice_like", _slice_like, _slice_like_shape, inputs=("data", "shape_like"),
            grad=_slice_like_grad, fluent=True, attrs={"axes": A.Shape(())}))


def _transpose_axes(op_name, ndim, axes, shapes):
    if not axes:
        return tuple(range(ndim - 1, -1, -1))
    axes = as_tuple(axes)
    require(len(axes) == ndim, op_name, f"axes={axes} is not a permutation of {ndim} axes",
            shapes)
    chosen = tuple(normalize_axis(op_name, a, ndim, shapes) for a in axes)
    require(sorted(chosen) == list(range(ndim)), op_name,
            f"axes={axes} is not a permutation of {ndim} axes", shapes)
    return chosen


def _transpose(data, *, axes=()):
    try:
        return np.transpose(data, axes or None)
    except ValueError:      # numpy refuses what the rule refuses: the rule's error instead
        _transpose_axes("transpose", data.ndim, axes, (data,))
        raise


def _transpose_shape(attrs, in_shapes):
    data = known("transpose", in_shapes)[0]
    axes = _transpose_axes("transpose", len(data), attrs["axes"], in_shapes)
    return [data], [tuple(data[a] for a in axes)]


def _transpose_grad(attrs, inputs, outputs, out_grads):
    ndim = inputs[0].ndim
    axes = tuple(a % ndim for a in attrs["axes"]) or tuple(range(ndim - 1, -1, -1))
    return [np.transpose(out_grads[0], np.argsort(axes))]


register(Op("transpose", _transpose, _transpose_shape, attrs={"axes": A.Shape(())},
            fluent=True, grad=_transpose_grad))


def _swapaxes(data, *, dim1=0, dim2=0):
    return np.swapaxes(data, normalize_axis("swapaxes", dim1, data.ndim, (data,)),
                       normalize_axis("swapaxes", dim2, data.ndim, (data,)))


def _swapaxes_shape(attrs, in_shapes):
    data = known("swapaxes", in_shapes)[0]
    d1 = normalize_axis("swapaxes", attrs["dim1"], len(data), in_shapes)
    d2 = normalize_axis("swapaxes", attrs["dim2"], len(data), in_shapes)
    out = list(data)
    out[d1], out[d2] = out[d2], out[d1]
    return [data], [tuple(out)]


def _swapaxes_grad(attrs, inputs, outputs, out_grads):
    return [np.swapaxes(out_grads[0], attrs["dim1"], attrs["dim2"])]


register(Op("swapaxes", _swapaxes, _swapaxes_shape, aliases=("SwapAxis",), fluent=True,
            grad=_swapaxes_grad,
            attrs={"dim1": A.Int(0), "dim2": A.Int(0)}))


def _flatten(data):
    return data.reshape(data.shape[0] if data.ndim else 1, -1)


def _flatten_shape(attrs, in_shapes):
    data = known("flatten", in_shapes)[0]
    require(len(data) >= 1, "flatten", "input must have at least one dimension", in_shapes)
    return [data], [(data[0], _size(data[1:]))]


register(Op("flatten", _flatten, _flatten_shape, aliases=("Flatten",), fluent=True,
            grad=reshape_grad))


def _expand_dims(data, *, axis):
    return np.expand_dims(data, normalize_axis("expand_dims", axis, data.ndim + 1, (data,)))


def _expand_dims_shape(attrs, in_shapes):
    data = known("expand_dims", in_shapes)[0]
    axis = normalize_axis("expand_dims", attrs["axis"], len(data) + 1, in_shapes)
    return [data], [data[:axis] + (1,) + data[axis:]]


register(Op("expand_dims", _expand_dims, _expand_dims_shape, attrs={"axis": A.Int()},
            fluent=True, grad=reshape_grad))


def _squeezed(op_name, shape, axis, shapes):
    if axis is None:
        axes = {i for i, n in enumerate(shape) if n == 1}
    else:
        axes = normalize_axes(op_name, axis, len(shape), shapes)
        for a in axes:
            require(shape[a] == 1, op_name, f"cannot squeeze axis {a} of size {shape[a]}", shapes)
    return tuple(n for i, n in enumerate(shape) if i not in axes) or (1,)


def _squeeze(data, *, axis=None):
    return data.reshape(_squeezed("squeeze", data.shape, axis, [data.shape]))


def _squeeze_shape(attrs, in_shapes):
    data = known("squeeze", in_shapes)[0]
    return [data], [_squeezed("squeeze", data, attrs["axis"], in_shapes)]


register(Op("squeeze", _squeeze, _squeeze_shape, attrs={"axis": A.OptShape()}, fluent=True,
            grad=reshape_grad))


def _concat(*arrays, num_args, dim=1):
    return np.concatenate(arrays, axis=normalize_axis("concat", dim, arrays[0].ndim, arrays))


def concat_into(first, piece, buffer, remaining):
    """(concat(first, piece) along axis 1, the buffer that holds it) for one link of a chain of
    concatenations, each of the previous one and a new piece (DenseNet's blocks), with
    `remaining` links after this one. For one sample (so that every channel prefix is a
    contiguous array) the chain writes into one buffer sized for `remaining` more pieces like
    this one: the result is a prefix of it, and a link copies only its piece. `first` continues
    the buffer only if it is the buffer's prefix that the previous link returned; the last
    link returns the whole buffer (or a copy of its prefix, where the pieces were smaller).
    Anything else (several samples, dtypes or shapes that differ) is concatenated as the
    kernel does, and the next link starts a new buffer."""
    if not (first.__class__ is piece.__class__ is np.ndarray and first.ndim == piece.ndim >= 2
            and first.shape[0] == piece.shape[0] == 1 and first.dtype == piece.dtype
            and first.shape[2:] == piece.shape[2:]):
        # inputs that do not fit fail with the shape rule's error, as the kernel's call would
        check_arrays("concat", {"num_args": 2, "dim": 1}, (first, piece))
        return REGISTRY["concat"].kernel(first, piece, num_args=2, dim=1), None
    width, extra = first.shape[1], piece.shape[1]
    if buffer is None or first.base is not buffer or width + extra > buffer.shape[1] or \
            first.shape[2:] != buffer.shape[2:] or first.ctypes.data != buffer.ctypes.data:
        buffer = np.empty((1, width + extra * (remaining + 1)) + first.shape[2:], first.dtype)
        buffer[:, :width] = first
    buffer[:, width:width + extra] = piece
    if remaining:
        return buffer[:, :width + extra], buffer
    if width + extra == buffer.shape[1]:
        return buffer, None
    return buffer[:, :width + extra].copy(), None


def _concat_shape(attrs, in_shapes):
    shapes = known("concat", in_shapes)
    first = shapes[0]
    axis = normalize_axis("concat", attrs["dim"], len(first), in_shapes)
    for s in shapes:
        require(len(s) == len(first) and s[:axis] + s[axis + 1:] == first[:axis] + first[axis + 1:],
                "concat", f"inputs must agree on every dimension but dim={attrs['dim']}",
                in_shapes)
    return shapes, [first[:axis] + (sum(s[axis] for s in shapes),) + first[axis + 1:]]


def _concat_grad(attrs, inputs, outputs, out_grads):
    axis = attrs["dim"] % inputs[0].ndim
    bounds = np.cumsum([x.shape[axis] for x in inputs])[:-1]
    return np.split(out_grads[0], bounds, axis=axis)


register(Op("concat", _concat, _concat_shape, inputs=VARIADIC, aliases=("Concat",),
            grad=_concat_grad,
            attrs={"num_args": A.Int(), "dim": A.Int(1)}))


def _stack(*arrays, num_args, axis=0):
    return np.stack(arrays, axis=normalize_axis("stack", axis, arrays[0].ndim + 1, arrays))


def _stack_shape(attrs, in_shapes):
    shapes = known("stack", in_shapes)
    require(all(s == shapes[0] for s in shapes), "stack", "inputs must have the same shape",
            in_shapes)
    axis = normalize_axis("stack", attrs["axis"], len(shapes[0]) + 1, in_shapes)
    return shapes, [shapes[0][:axis] + (len(shapes),) + shapes[0][axis:]]


def _stack_grad(attrs, inputs, outputs, out_grads):
    axis = attrs["axis"] % (inputs[0].ndim + 1)
    return [np.take(out_grads[0], i, axis=axis) for i in range(len(inputs))]


register(Op("stack", _stack, _stack_shape, inputs=VARIADIC, grad=_stack_grad,
            attrs={"num_args": A.Int(), "axis": A.Int(0)}))


def _split(data, *, num_outputs, axis=1, squeeze_axis=False):
    axis = normalize_axis("split", axis, data.ndim, (data,))
    parts = np.split(data, num_outputs, axis=axis)
    if squeeze_axis:
        parts = [np.squeeze(p, axis=axis) for p in parts]
    return tuple(parts)


def _split_shape(attrs, in_shapes):
    data = known("split", in_shapes)[0]
    axis = normalize_axis("split", attrs["axis"], len(data), in_shapes)
    count = attrs["num_outputs"]
    require(count > 0 and data[axis] % count == 0, "split",
            f"axis {axis} of size {data[axis]} cannot be split into num_outputs={count} parts",
            in_shapes)
    part = data[:axis] + (data[axis] // count,) + data[axis + 1:]
    if attrs["squeeze_axis"]:
        require(data[axis] == count, "split", "squeeze_axis needs parts of size 1", in_shapes)
        part = part[:axis] + part[axis + 1:]
    return [data], [part] * count


def _split_grad(attrs, inputs, outputs, out_grads):
    axis = attrs["axis"] % inputs[0].ndim
    parts = out_grads
    if attrs["squeeze_axis"]:
        parts = [np.expand_dims(p, axis) for p in parts]
    return [np.concatenate(parts, axis=axis)]


register(Op("split", _split, _split_shape, aliases=("SliceChannel",), fluent=True,
            grad=_split_grad,
            num_outputs=lambda attrs: attrs["num_outputs"],
            attrs={"num_outputs": A.Int(), "axis": A.Int(1), "squeeze_axis": A.Bool(False)}))


def _tile(data, *, reps):
    return np.tile(data, reps)


def _tile_shape(attrs, in_shapes):
    data = known("tile", in_shapes)[0]
    reps = attrs["reps"]
    ndim = max(len(data), len(reps))
    data_p = (1,) * (ndim - len(data)) + data
    reps_p = (1,) * (ndim - len(reps)) + reps
    return [data], [tuple(d * r for d, r in zip(data_p, reps_p))]


def _tile_grad(attrs, inputs, outputs, out_grads):
    data, reps = inputs[0], tuple(attrs["reps"])
    ndim = max(data.ndim, len(reps))
    data_p = (1,) * (ndim - data.ndim) + data.shape
    reps_p = (1,) * (ndim - len(reps)) + reps
    interleaved = tuple(n for pair in zip(reps_p, data_p) for n in pair)
    g = out_grads[0].reshape(interleaved).sum(axis=tuple(range(0, 2 * ndim, 2)))
    return [g.reshape(data.shape)]


register(Op("tile", _tile, _tile_shape, attrs={"reps": A.Shape()}, fluent=True,
            grad=_tile_grad))


def _repeat(data, *, repeats, axis=None):
    if axis is not None:
        axis = normalize_axis("repeat", axis, data.ndim, (data,))
    return np.repeat(data, repeats, axis=axis)


def _repeat_shape(attrs, in_shapes):
    data = known("repeat", in_shapes)[0]
    require(attrs["repeats"] >= 0, "repeat", "repeats must not be negative", in_shapes)
    if attrs["axis"] is None:
        return [data], [(_size(data) * attrs["repeats"],)]
    axis = normalize_axis("repeat", attrs["axis"], len(data), in_shapes)
    return [data], [data[:axis] + (data[axis] * attrs["repeats"],) + data[axis + 1:]]


def _repeat_grad(attrs, inputs, outputs, out_grads):
    data, repeats, axis = inputs[0], attrs["repeats"], attrs["axis"]
    g = out_grads[0]
    if axis is None:
        return [g.reshape(data.size, repeats).sum(axis=1).reshape(data.shape)]
    axis %= data.ndim
    shape = data.shape[:axis] + (data.shape[axis], repeats) + data.shape[axis + 1:]
    return [g.reshape(shape).sum(axis=axis + 1)]


register(Op("repeat", _repeat, _repeat_shape, fluent=True, grad=_repeat_grad,
            attrs={"repeats": A.Int(), "axis": A.OptInt()}))


def _broadcast_target(op_name, data, target, shapes):
    """The shape `data` (a shape) broadcasts to for `target` (0 keeps a dimension), checked by
    rules and kernels alike: np.broadcast_to would also add leading dimensions."""
    if len(target) != len(data):
        raise shape_error(op_name, f"target shape {tuple(target)} must have {len(data)} "
                          f"dimensions", shapes)
    out = tuple(d if t == 0 else t for d, t in zip(data, target))
    if any(d != t and d != 1 for d, t in zip(data, out)):
        raise shape_error(op_name, f"cannot broadcast to {out}", shapes)
    return out


def _broadcast_to(data, *, shape):
    return np.broadcast_to(data, _broadcast_target("broadcast_to", data.shape, shape, (data,)))


def _broadcast_to_shape(attrs, in_shapes):
    data = known("broadcast_to", in_shapes)[0]
    return [data], [_broadcast_target("broadcast_to", data, attrs["shape"], in_shapes)]


def _unbroadcast_grad(attrs, inputs, outputs, out_grads):
    return [unbroadcast(out_grads[0], inputs[0].shape)] + [None] * (len(inputs) - 1)


register(Op("broadcast_to", _broadcast_to, _broadcast_to_shape, attrs={"shape": A.Shape(())},
            fluent=True, grad=_unbroadcast_grad))


def _like_target(lhs, rhs, lhs_axes, rhs_axes, shapes):
    """The shape broadcast_like broadcasts `lhs` to (shapes in, checked by rule and kernel)."""
    if lhs_axes is None and rhs_axes is None:
        target = tuple(rhs)
    else:
        require(lhs_axes is not None and rhs_axes is not None
                and len(as_tuple(lhs_axes)) == len(as_tuple(rhs_axes)), "broadcast_like",
                "lhs_axes and rhs_axes must be given together, of equal length", shapes)
        target = list(lhs)
        for la, ra in zip(as_tuple(lhs_axes), as_tuple(rhs_axes)):
            target[normalize_axis("broadcast_like", la, len(lhs), shapes)] = \
                rhs[normalize_axis("broadcast_like", ra, len(rhs), shapes)]
    return _broadcast_target("broadcast_like", lhs, target, shapes)


def _broadcast_like(lhs, rhs, *, lhs_axes=None, rhs_axes=None):
    return np.broadcast_to(lhs, _like_target(lhs.shape, rhs.shape, lhs_axes, rhs_axes,
                                             (lhs, rhs)))


def _broadcast_like_shape(attrs, in_shapes):
    lhs, rhs = known("broadcast_like", in_shapes)
    return [lhs, rhs], [_like_target(lhs, rhs, attrs["lhs_axes"], attrs["rhs_axes"], in_shapes)]


register(Op("broadcast_like", _broadcast_like, _broadcast_like_shape, inputs=("lhs", "rhs"),
            grad=_unbroadcast_grad,
            attrs={"lhs_axes": A.OptShape(), "rhs_axes": A.OptShape()}, fluent=True))


def _axis_target(shape, axis, size, shapes):
    """The shape broadcast_axis broadcasts to (checked by rule and kernel alike)."""
    axis, size = as_tuple(axis), as_tuple(size)
    require(len(axis) == len(size), "broadcast_axis", "axis and size must have equal length",
            shapes)
    out = list(shape)
    for a, s in zip(axis, size):
        a = normalize_axis("broadcast_axis", a, len(shape), shapes)
        if shape[a] != 1:
            raise shape_error("broadcast_axis", f"axis {a} has size {shape[a]}, not 1", shapes)
        out[a] = s
    return tuple(out)


def _broadcast_axis(data, *, axis=(), size=()):
    return np.broadcast_to(data, _axis_target(data.shape, axis, size, (data,)))


def _broadcast_axis_shape(attrs, in_shapes):
    data = known("broadcast_axis", in_shapes)[0]
    return [data], [_axis_target(data, attrs["axis"], attrs["size"], in_shapes)]


register(Op("broadcast_axis", _broadcast_axis, _broadcast_axis_shape,
            aliases=("broadcast_axes",), fluent=True, grad=_unbroadcast_grad,
            attrs={"axis": A.Shape(()), "size": A.Shape(())}))


def _reverse_axes(axis, ndim, shapes):
    """The axes reverse flips; repeating one is left to numpy, which refuses it in every
    mode (MXNet 1.9.1 takes it)."""
    return tuple(normalize_axis("reverse", a, ndim, shapes) for a in as_tuple(axis))


def _reverse(data, *, axis):
    return np.flip(data, axis=_reverse_axes(axis, data.ndim, (data,)))


def _reverse_shape(attrs, in_shapes):
    data = known("reverse", in_shapes)[0]
    _reverse_axes(attrs["axis"], len(data), in_shapes)
    return [data], [data]


def _reverse_grad(attrs, inputs, outputs, out_grads):
    return [np.flip(out_grads[0], axis=tuple(attrs["axis"]))]


register(Op("reverse", _reverse, _reverse_shape, aliases=("flip",), fluent=True,
            attrs={"axis": A.Shape()}, grad=_reverse_grad))
