"""Operators that read only their input's shape: shape_array, size_array, contrib.arange_like."""
import numpy as np

from . import attrs as A
from .grad_utils import no_grad
from .registry import Op, register
from .shapes import known, normalize_axis


def _shape_array(data):
    return np.array(data.shape, dtype=np.int64)


def _size_array(data):
    return np.array([data.size], dtype=np.int64)


def _shape_array_shape(attrs, in_shapes):
    data = known("shape_array", in_shapes)[0]
    return [data], [(len(data),)]


def _size_array_shape(attrs, in_shapes):
    return [known("size_array", in_shapes)[0]], [(1,)]


# an integer description of the shape: no gradient flows back through it to the values
register(Op("shape_array", _shape_array, _shape_array_shape, fluent=True, grad=no_grad))
register(Op("size_array", _size_array, _size_array_shape, fluent=True, grad=no_grad))


def _arange_like_shape_of(shape, axis, shapes):
    if axis is None:
        return tuple(shape)
    return (shape[normalize_axis("_contrib_arange_like", axis, len(shape), shapes)],)


def _arange_like(data, *, start=0.0, step=1.0, repeat=1, axis=None):
    shape = _arange_like_shape_of(data.shape, axis, (data,))
    steps = np.arange(int(np.prod(shape, dtype=np.int64))) // repeat
    return (start + step * steps).astype(data.dtype).reshape(shape)


def _arange_like_rule(attrs, in_shapes):
    data = known("_contrib_arange_like", in_shapes)[0]
    return [data], [_arange_like_shape_of(data, attrs["axis"], in_shapes)]


register(Op("_contrib_arange_like", _arange_like, _arange_like_rule, grad=no_grad,
            attrs={"start": A.Float(0.0), "step": A.Float(1.0), "repeat": A.Int(1),
                   "axis": A.OptInt()}))
