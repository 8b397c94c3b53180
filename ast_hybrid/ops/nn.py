"""Neural-network layer operators: FullyConnected, Dropout and their relatives."""
import numpy as np

from . import attrs as A
from .random_state import generator
from .registry import Op, register
from .shapes import known, require


def _fc_inputs(attrs):
    if attrs is not None and attrs["no_bias"]:
        return ("data", "weight")
    return ("data", "weight", "bias")


def _fully_connected(data, weight, bias=None, *, num_hidden, no_bias=False, flatten=True):
    if flatten and data.ndim != 2:
        data = data.reshape(data.shape[0], -1)
    out = np.dot(data, weight.T)
    if bias is not None:
        out += bias
    return out


def _fully_connected_shape(attrs, in_shapes):
    data = known("FullyConnected", in_shapes, 1)[0]
    if attrs["flatten"]:
        in_units = int(np.prod(data[1:], dtype=np.int64))
        out = (data[0], attrs["num_hidden"])
    else:
        in_units = data[-1]
        out = tuple(data[:-1]) + (attrs["num_hidden"],)
    expected = [data, (attrs["num_hidden"], in_units)]
    if not attrs["no_bias"]:
        expected.append((attrs["num_hidden"],))
    for given, want in zip(in_shapes[1:], expected[1:]):
        require(given is None or tuple(given) == want, "FullyConnected",
                f"weight/bias shapes must be {expected[1:]} for data {data} and "
                f"num_hidden={attrs['num_hidden']}", in_shapes)
    return expected, [out]


register(Op("FullyConnected", _fully_connected, _fully_connected_shape, inputs=_fc_inputs,
            attrs={"num_hidden": A.Int(), "no_bias": A.Bool(False), "flatten": A.Bool(True)}))


def _dropout(data, *, p=0.5, mode="training", axes=(), training=False):
    if p <= 0 or (mode == "training" and not training):
        return data
    mask_shape = tuple(1 if i in axes else n for i, n in enumerate(data.shape))
    keep = generator().random(mask_shape) >= p
    return data * (keep / (1.0 - p)).astype(data.dtype)


def _same(attrs, in_shapes):
    shape = known("Dropout", in_shapes)[0]
    return [shape], [shape]


register(Op("Dropout", _dropout, _same, mode_dependent=True,
            attrs={"p": A.Float(0.5), "mode": A.Str("training", ("training", "always")),
                   "axes": A.Shape(())}))
