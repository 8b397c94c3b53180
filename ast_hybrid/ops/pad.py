"""`pad` (alias `Pad`): MXNet's padding of 4-d or 5-d data along its spatial axes, with a
constant, the edge values, or a reflection about the edges (numpy's 'reflect')."""
import numpy as np

from . import attrs as A
from .registry import REGISTRY, Op, check_arrays, register
from .shapes import known, require

_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect"}


def _widths(pad_width):
    return [(pad_width[2 * i], pad_width[2 * i + 1]) for i in range(len(pad_width) // 2)]


def _pad_shape(attrs, in_shapes):
    name = "Pad"
    data = known(name, in_shapes)[0]
    width = tuple(attrs["pad_width"])
    require(len(data) in (4, 5), name, "only 4-d or 5-d data can be padded", in_shapes)
    require(len(width) == 2 * len(data), name, f"pad_width={width} must have 2 entries per "
            f"axis of the data", in_shapes)
    require(not any(width[:4]), name, f"pad_width={width} must not pad the first two axes",
            in_shapes)
    require(min(width) >= 0, name, f"pad_width={width} must not be negative", in_shapes)
    if attrs["mode"] == "reflect":
        require(all(b < s and a < s for (b, a), s in zip(_widths(width)[2:], data[2:])), name,
                "reflection padding must be smaller than the input size", in_shapes)
    return [data], [tuple(s + b + a for s, (b, a) in zip(data, _widths(width)))]


def _pad(data, *, mode="constant", pad_width, constant_value=0.0):
    attrs = REGISTRY["Pad"].parse_attrs({"mode": mode, "pad_width": pad_width,
                                         "constant_value": constant_value})
    check_arrays("Pad", attrs, (data,))
    mode, constant_value = attrs["mode"], attrs["constant_value"]
    widths = _widths(attrs["pad_width"])
    if mode == "constant":
        value = np.asarray(constant_value).astype(data.dtype)
        return np.pad(data, widths, mode="constant", constant_values=value)
    return np.pad(data, widths, mode=_MODES[mode])


def _pad_grad(attrs, inputs, outputs, out_grads):
    """Each output position's gradient goes to the input position it was copied from."""
    data, g = inputs[0], out_grads[0]
    mode = attrs["mode"]
    for axis, (before, after) in enumerate(_widths(tuple(attrs["pad_width"]))):
        if not before and not after:
            continue
        size = data.shape[axis]
        if mode == "constant":
            g = np.take(g, np.arange(before, before + size), axis=axis)
            continue
        source = np.pad(np.arange(size), (before, after), mode=_MODES[mode])
        scatter = np.zeros((size, source.size), dtype=g.dtype)
        scatter[source, np.arange(source.size)] = 1
        g = np.moveaxis(np.tensordot(scatter, np.moveaxis(g, axis, 0), axes=1), 0, axis)
    return [np.ascontiguousarray(g).astype(data.dtype, copy=False)]


register(Op("Pad", _pad, _pad_shape, grad=_pad_grad, aliases=("pad",),
            attrs={"mode": A.Str("constant", tuple(_MODES)), "pad_width": A.Shape(),
                   "constant_value": A.Float(0.0)}))
