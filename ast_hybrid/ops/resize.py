"""contrib.BilinearResize2D and contrib.AdaptiveAvgPooling2D on NCHW data."""
import numpy as np

from . import attrs as A
from .registry import Op, register
from .shapes import known, require

_RESIZE = "_contrib_BilinearResize2D"
_POOL = "_contrib_AdaptiveAvgPooling2D"
_MODES = ("like", "odd_scale", "size", "to_even_down", "to_even_up", "to_odd_down", "to_odd_up")


# Both are separable linear maps, out = rows @ data @ columns.T with one small matrix per
# spatial axis, so the gradient is rows.T @ out_grad @ columns.
def _apply(rows, columns, data):
    return np.matmul(np.matmul(rows.astype(data.dtype), data), columns.T.astype(data.dtype))


def _apply_transposed(rows, columns, g, dtype):
    return np.matmul(np.matmul(rows.T.astype(dtype), g.astype(dtype, copy=False)),
                     columns.astype(dtype))


def _interpolation(size, out_size, align_corners):
    """MXNet's CPU bilinear weights along one axis: (out_size, size). Source positions are
    computed in float32, as MXNet computes them, so that both pick the same pixels."""
    if out_size > 1:
        scale = (size - 1) / (out_size - 1) if align_corners else size / out_size
    else:
        scale = 0.0
    scale = np.float32(scale)
    steps = np.arange(out_size, dtype=np.float32)
    source = scale * steps if align_corners else np.maximum(
        scale * (steps + np.float32(0.5)) - np.float32(0.5), 0)
    low = source.astype(np.intp)
    high = low + (low < size - 1)
    weight = (source - low).astype(np.float64)
    matrix = np.zeros((out_size, size))
    np.add.at(matrix, (np.arange(out_size), low), 1 - weight)
    np.add.at(matrix, (np.arange(out_size), high), weight)
    return matrix


def _resize_inputs(attrs):
    if attrs is None or attrs["mode"] == "like":
        return ("data", "like")
    return ("data",)


def _resize_target(attrs, data, like, shapes):
    """The output (height, width) of BilinearResize2D, as MXNet 1.9.1's shape rule."""
    require(len(data) == 4, _RESIZE, "data must be 4-d (NCHW)", shapes)
    mode, height, width = attrs["mode"], data[2], data[3]
    scale_h, scale_w = attrs["scale_height"], attrs["scale_width"]
    if mode == "size":
        if scale_h is None:
            target = (attrs["height"], attrs["width"])
        else:
            # MXNet reads scale_width whenever scale_height is given
            require(scale_w is not None, _RESIZE, "scale_height needs scale_width", shapes)
            target = (int(scale_h * height), int(scale_w * width))
    elif mode == "odd_scale":
        require(scale_h is not None and scale_w is not None, _RESIZE,
                "mode 'odd_scale' needs scale_height and scale_width", shapes)
        target = tuple(int(n * s) if n % 2 == 0 else int((n - 1) * s) + 1
                       for n, s in ((height, scale_h), (width, scale_w)))
    elif mode == "like":
        require(like is not None and len(like) == 4, _RESIZE, "like must be 4-d", shapes)
        target = (like[2], like[3])
    else:
        parity = 0 if "even" in mode else 1
        step = 1 if mode.endswith("up") else -1
        target = tuple(n if n % 2 == parity else n + step for n in (height, width))
    require(min(target) > 0, _RESIZE, f"output size {target} must be positive", shapes)
    return target


def _resize_matrices(attrs, shape, target):
    align = attrs["align_corners"]
    return (_interpolation(shape[2], target[0], align), _interpolation(shape[3], target[1], align))


def _bilinear_resize(data, like=None, *, height=1, width=1, scale_height=None,
                     scale_width=None, mode="size", align_corners=True):
    shapes = (data,) if like is None else (data, like)
    attrs = {"height": height, "width": width, "scale_height": scale_height,
             "scale_width": scale_width, "mode": mode, "align_corners": align_corners}
    target = _resize_target(attrs, data.shape, None if like is None else like.shape, shapes)
    return _apply(*_resize_matrices(attrs, data.shape, target), data)


def _bilinear_resize_shape(attrs, in_shapes):
    data = known(_RESIZE, in_shapes, 1)[0]
    like = None
    if attrs["mode"] == "like":
        like = known(_RESIZE, in_shapes)[1]
    target = _resize_target(attrs, data, like, in_shapes)
    return [data] + ([like] if like else []), [data[:2] + target]


def _bilinear_resize_grad(attrs, inputs, outputs, out_grads):
    data = inputs[0]
    rows, columns = _resize_matrices(attrs, data.shape, outputs[0].shape[2:])
    return [_apply_transposed(rows, columns, out_grads[0], data.dtype)] + [None] * (
        len(inputs) - 1)


_RESIZE_ATTRS = {"height": A.Int(1), "width": A.Int(1), "scale_height": A.OptFloat(),
                 "scale_width": A.OptFloat(), "mode": A.Str("size", _MODES),
                 "align_corners": A.Bool(True)}
register(Op(_RESIZE, _bilinear_resize, _bilinear_resize_shape, inputs=_resize_inputs,
            grad=_bilinear_resize_grad, attrs=_RESIZE_ATTRS))


def _pool_target(output_size, data, shapes):
    require(len(data) == 4, _POOL, "data must be 4-d (NCHW)", shapes)
    output_size = tuple(output_size)
    require(len(output_size) <= 2 and all(n > 0 for n in output_size), _POOL,
            "output_size must be one or two positive sizes", shapes)
    return {0: (1, 1), 1: output_size * 2}.get(len(output_size), output_size)


def _averaging(size, out_size):
    """MXNet's adaptive bins along one axis, [floor(i*n/m), ceil((i+1)*n/m)), as means."""
    matrix = np.zeros((out_size, size))
    for i in range(out_size):
        start, end = i * size // out_size, -(-(i + 1) * size // out_size)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def _pool_matrices(shape, target):
    return _averaging(shape[2], target[0]), _averaging(shape[3], target[1])


def _adaptive_avg_pooling(data, *, output_size=()):
    target = _pool_target(output_size, data.shape, (data,))
    return _apply(*_pool_matrices(data.shape, target), data)


def _adaptive_avg_pooling_shape(attrs, in_shapes):
    data = known(_POOL, in_shapes)[0]
    return [data], [data[:2] + _pool_target(attrs["output_size"], data, in_shapes)]


def _adaptive_avg_pooling_grad(attrs, inputs, outputs, out_grads):
    data = inputs[0]
    rows, columns = _pool_matrices(data.shape, outputs[0].shape[2:])
    return [_apply_transposed(rows, columns, out_grads[0], data.dtype)]


register(Op(_POOL, _adaptive_avg_pooling, _adaptive_avg_pooling_shape,
            grad=_adaptive_avg_pooling_grad, attrs={"output_size": A.Shape(())}))
