"""Neural-network layer operators: FullyConnected, Dropout, softmax, LeakyReLU, Embedding."""
import numpy as np

from . import attrs as A
from .random_state import generator
from .registry import Op, register
from .shapes import deduce, known, normalize_axis, require, same_shape


def _fc_inputs(attrs):
    if attrs is not None and attrs["no_bias"]:
        return ("data", "weight")
    return ("data", "weight", "bias")


def _fully_connected(data, weight, bias=None, *, num_hidden, no_bias=False, flatten=True):
    return (fully_connected if flatten else fully_connected_nd)(data, weight, bias)


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


def _outer_sum(g, flat, out=None):
    """g.T @ flat (into `out` when given: C-contiguous, of the result's shape and dtype).

    np.dot hands the transposed operand to BLAS's gemm directly; for one row this is faster
    than a broadcast outer product (np.matmul, by contrast, copies g.T first and is slow)."""
    return np.dot(g.T, flat, out=out)


def _fully_connected_grad(attrs, inputs, outputs, out_grads, out=None):
    """out: None, or one entry per input: an array that input's gradient is written into
    and returned as (when its shape and dtype are the computed gradient's), False where that
    gradient is not wanted (None is returned for it), or None."""
    data, weight = inputs[0], inputs[1]
    g = out_grads[0]
    if attrs["flatten"]:
        flat = data.reshape(data.shape[0], -1)
    else:
        flat = data.reshape(-1, data.shape[-1])
        g = g.reshape(-1, g.shape[-1])
    weight_out = bias_out = None
    if out is not None and g.dtype == flat.dtype:
        weight_out = _fits(out[1], (g.shape[1], flat.shape[1]), g.dtype)
        if len(inputs) > 2 and len(out) > 2:
            bias_out = _fits(out[2], (g.shape[1],), g.dtype)
    data_grad = None if out is not None and out[0] is False else \
        np.dot(g, weight).reshape(data.shape)
    weight_grad = None if out is not None and out[1] is False else \
        _outer_sum(g, flat, weight_out)
    grads = [data_grad, weight_grad]
    if len(inputs) > 2:
        grads.append(None if out is not None and len(out) > 2 and out[2] is False
                     else g.sum(axis=0, out=bias_out))
    return grads


_fully_connected_grad.writes_into = True   # accepts out= (compiled backward programs)


def _fits(buffer, shape, dtype):
    """`buffer` when a result of this shape and dtype may be written into it, else None."""
    if type(buffer) is np.ndarray and buffer.shape == shape and buffer.dtype == dtype \
            and buffer.flags.c_contiguous and buffer.flags.writeable:
        return buffer
    return None


def fully_connected(data, weight, bias=None):
    """FullyConnected with flatten=True, bound by _fully_connected_specialize."""
    if data.ndim != 2:
        data = data.reshape(data.shape[0], -1)
    out = np.dot(data, weight.T)
    if bias is not None:
        out += bias
    return out


def fully_connected_nd(data, weight, bias=None):
    """FullyConnected with flatten=False, bound by _fully_connected_specialize."""
    out = np.dot(data, weight.T)
    if bias is not None:
        out += bias
    return out


def _fully_connected_specialize(attrs):
    """No attribute parsing per call: a product plus an in-place bias add."""
    return fully_connected if attrs["flatten"] else fully_connected_nd


register(Op("FullyConnected", _fully_connected, _fully_connected_shape, inputs=_fc_inputs,
            grad=_fully_connected_grad, specialize=_fully_connected_specialize,
            attrs={"num_hidden": A.Int(), "no_bias": A.Bool(False), "flatten": A.Bool(True)}))


def _dropout(data, *, p=0.5, mode="training", axes=(), training=False):
    if p <= 0 or (mode == "training" and not training):
        return data
    mask_shape = tuple(1 if i in axes else n for i, n in enumerate(data.shape))
    keep = generator().random(mask_shape) >= p
    return data * (keep / (1.0 - p)).astype(data.dtype)


def _dropout_grad(attrs, inputs, outputs, out_grads):
    """The kept elements are those the output did not zero (a zero input has zero gradient
    through relu-like layers anyway), each scaled by 1/(1-p) as in the forward."""
    p = attrs["p"]
    g = out_grads[0]
    if p <= 0 or (attrs["mode"] == "training" and not attrs.get("training", False)):
        return [g]
    return [g * ((outputs[0] != 0) / (1.0 - p)).astype(g.dtype)]


register(Op("Dropout", _dropout, same_shape("Dropout"), mode_dependent=True, grad=_dropout_grad,
            attrs={"p": A.Float(0.5), "mode": A.Str("training", ("training", "always")),
                   "axes": A.Shape(())}))


def _softmax_input(data, axis, temperature):
    if temperature is not None and temperature != 1.0:
        data = data / np.asarray(temperature, dtype=data.dtype)
    return data - np.max(data, axis=axis, keepdims=True)


def _softmax(data, *, axis=-1, temperature=None, dtype=None, use_length=False):
    shifted = np.exp(_softmax_input(data, axis, temperature))
    out = shifted / np.sum(shifted, axis=axis, keepdims=True)
    return out.astype(dtype, copy=False) if dtype else out


def _log_softmax(data, *, axis=-1, temperature=None, dtype=None, use_length=False):
    shifted = _softmax_input(data, axis, temperature)
    out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return out.astype(dtype, copy=False) if dtype else out


def _softmax_shape(op_name):
    def rule(attrs, in_shapes):
        data = known(op_name, in_shapes)[0]
        normalize_axis(op_name, attrs["axis"], len(data), in_shapes)
        require(not attrs["use_length"], op_name, "use_length=True is not supported", in_shapes)
        return [data], [data]
    return rule


def _softmax_grad(attrs, inputs, outputs, out_grads):
    y, g, axis = outputs[0], out_grads[0], attrs["axis"]
    dx = y * (g - np.sum(g * y, axis=axis, keepdims=True))
    return [_unscale(dx, attrs).astype(inputs[0].dtype, copy=False)]


def _log_softmax_grad(attrs, inputs, outputs, out_grads):
    y, g, axis = outputs[0], out_grads[0], attrs["axis"]
    dx = g - np.exp(y) * np.add.reduce(g, axis=axis, keepdims=True)
    return [_unscale(dx, attrs).astype(inputs[0].dtype, copy=False)]


def _unscale(dx, attrs):
    temperature = attrs["temperature"]
    if temperature is not None and temperature != 1.0:
        return dx / temperature
    return dx


for _name, _kernel, _grad in (("softmax", _softmax, _softmax_grad),
                              ("log_softmax", _log_softmax, _log_softmax_grad)):
    register(Op(_name, _kernel, _softmax_shape(_name), fluent=True, grad=_grad,
                attrs={"axis": A.Int(-1), "temperature": A.OptFloat(),
                       "dtype": A.OptStr(None, ("float16", "float32", "float64")),
                       "use_length": A.Bool(False)}))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_LAMBDA = 1.0507009873554804934193349852946


def erf(x):
    """Vectorised error function (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7), keeping dtype."""
    a1, a2, a3, a4, a5, p = (0.254829592, -0.284496736, 1.421413741, -1.453152027,
                             1.061405429, 0.3275911)
    dtype = x.dtype
    z = np.abs(x)
    t = 1.0 / (1.0 + p * z)
    poly = ((((a5 * t + a4) * t + a3) * t + a2) * t + a1) * t
    y = 1.0 - poly * np.exp(-z * z)
    return np.copysign(y, x).astype(dtype, copy=False)


def _leaky_inputs(attrs):
    if attrs is None or attrs["act_type"] == "prelu":
        return ("data", "gamma")
    return ("data",)


def _leaky_relu(data, gamma=None, *, act_type="leaky", slope=0.25, lower_bound=0.125,
                upper_bound=0.334):
    dtype = data.dtype
    if act_type == "leaky":
        return np.where(data > 0, data, data * np.asarray(slope, dtype=dtype))
    if act_type == "prelu":
        if gamma.size > 1 and data.ndim > 1:
            gamma = gamma.reshape((1, -1) + (1,) * (data.ndim - 2))
        return np.where(data > 0, data, data * gamma)
    if act_type == "elu":
        return np.where(data > 0, data, np.asarray(slope, dtype=dtype) * np.expm1(data))
    if act_type == "selu":
        negative = np.asarray(_SELU_ALPHA, dtype=dtype) * np.expm1(data)
        return np.asarray(_SELU_LAMBDA, dtype=dtype) * np.where(data > 0, data, negative)
    if act_type == "gelu":
        half = np.asarray(0.5, dtype=dtype)
        return half * data * (1 + erf(data * np.asarray(np.sqrt(0.5), dtype=dtype)))
    raise ValueError(f"LeakyReLU: act_type {act_type!r} is not supported")


def _leaky_relu_shape(attrs, in_shapes):
    data = known("LeakyReLU", in_shapes, 1)[0]
    if attrs["act_type"] != "prelu":
        return [data], [data]
    gamma = in_shapes[1]
    channels = data[1] if len(data) > 1 else data[0]
    if gamma is None:
        gamma = (channels,)
    require(tuple(gamma) in ((1,), (channels,)), "LeakyReLU",
            f"prelu's gamma must have shape (1,) or ({channels},)", in_shapes)
    return [data, tuple(gamma)], [data]


def _leaky_relu_grad(attrs, inputs, outputs, out_grads):
    data, g = inputs[0], out_grads[0]
    act_type, dtype = attrs["act_type"], data.dtype
    positive = data > 0
    if act_type == "leaky":
        return [g * np.where(positive, 1, attrs["slope"]).astype(dtype)]
    if act_type == "prelu":
        gamma = inputs[1]
        channel_axis = 1 if gamma.size > 1 and data.ndim > 1 else None
        shaped = gamma.reshape((1, -1) + (1,) * (data.ndim - 2)) if channel_axis else gamma
        d_data = g * np.where(positive, 1, shaped)
        contribution = np.where(positive, 0, g * data)
        if gamma.size == 1:
            d_gamma = contribution.sum().reshape(gamma.shape)
        elif channel_axis:
            d_gamma = contribution.sum(axis=tuple(i for i in range(data.ndim) if i != 1))
        else:
            d_gamma = contribution
        return [d_data, d_gamma.astype(gamma.dtype, copy=False)]
    if act_type == "elu":
        return [g * np.where(positive, 1, outputs[0] + attrs["slope"]).astype(dtype)]
    if act_type == "selu":
        negative = _SELU_ALPHA * np.exp(data)
        return [g * (_SELU_LAMBDA * np.where(positive, 1, negative)).astype(dtype)]
    if act_type == "gelu":
        cdf = 0.5 * (1 + erf(data * np.asarray(np.sqrt(0.5), dtype=dtype)))
        pdf = np.exp(-0.5 * np.square(data)) / np.sqrt(2 * np.pi)
        return [g * (cdf + data * pdf).astype(dtype)]
    raise ValueError(f"LeakyReLU: act_type {act_type!r} is not supported")


register(Op("LeakyReLU", _leaky_relu, _leaky_relu_shape, inputs=_leaky_inputs,
            grad=_leaky_relu_grad,
            attrs={"act_type": A.Str("leaky", ("elu", "gelu", "leaky", "prelu", "selu")),
                   "slope": A.Float(0.25), "lower_bound": A.Float(0.125),
                   "upper_bound": A.Float(0.334)}))


def _embedding(data, weight, *, input_dim, output_dim, dtype="float32", sparse_grad=False):
    positions = np.clip(data.astype(np.intp, copy=False), 0, weight.shape[0] - 1)
    return weight[positions]


def _embedding_shape(attrs, in_shapes):
    data = known("Embedding", in_shapes, 1)[0]
    weight = deduce("Embedding", in_shapes, [None, (attrs["input_dim"], attrs["output_dim"])],
                    ("data", "weight"))[1]
    return [data, weight], [data + (attrs["output_dim"],)]


def _embedding_grad(attrs, inputs, outputs, out_grads):
    data, weight = inputs
    positions = np.clip(data.astype(np.intp, copy=False), 0, weight.shape[0] - 1)
    d_weight = np.zeros_like(weight)
    np.add.at(d_weight, positions.reshape(-1),
              out_grads[0].reshape(-1, weight.shape[1]).astype(weight.dtype, copy=False))
    return [None, d_weight]


register(Op("Embedding", _embedding, _embedding_shape, inputs=("data", "weight"),
            grad=_embedding_grad,
            attrs={"input_dim": A.Int(), "output_dim": A.Int(), "dtype": A.Dtype("float32"),
                   "sparse_grad": A.Bool(False)}))
