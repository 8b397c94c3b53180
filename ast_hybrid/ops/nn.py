"""Neural-network layer operators: FullyConnected, Dropout, softmax, LeakyReLU, Embedding."""
import weakref

import numpy as np

from . import attrs as A
from .grad_utils import fits_buffer
from .random_state import generator
from .registry import Op, OpError, check_arrays, register, shape_error
from .shapes import known, normalize_axes, normalize_axis, require
from .special import erf


def _fc_inputs(attrs):
    if attrs is not None and attrs["no_bias"]:
        return ("data", "weight")
    return ("data", "weight", "bias")


def _fully_connected(data, weight, bias=None, *, num_hidden, no_bias=False, flatten=True):
    if weight.shape[:1] != (num_hidden,):       # the product would not notice
        check_arrays("FullyConnected", {"num_hidden": num_hidden, "no_bias": no_bias,
                                        "flatten": flatten}, (data, weight, bias))
    return (fully_connected if flatten else fully_connected_nd)(data, weight, bias)


def _refuse_fully_connected(data, weight, bias, flatten):
    """The shape rule's OpError for a bound kernel's inputs (their attributes read from the
    arrays: num_hidden is the weight's first dimension); returns where the rule accepts them."""
    num_hidden = weight.shape[0] if weight.ndim else 0
    check_arrays("FullyConnected", {"num_hidden": num_hidden, "no_bias": bias is None,
                                    "flatten": flatten}, (data, weight, bias))


def _product(data, weight, bias, flatten, rows):
    """data @ weight.T (+ bias) for fully_connected(_nd), `rows` the data as a matrix; inputs
    numpy would broadcast or refuse with its own message go to the shape rule first."""
    if weight.ndim != 2 or bias is not None and bias.shape != weight.shape[:1]:
        _refuse_fully_connected(data, weight, bias, flatten)
    try:
        out = np.dot(rows, weight.T)
    except ValueError:
        _refuse_fully_connected(data, weight, bias, flatten)
        raise
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


def _outer_sum(g, flat, out=None):
    """g.T @ flat (into `out` when given: C-contiguous, of the result's shape and dtype).

    np.dot hands the transposed operand to BLAS's gemm directly; for one row this is faster
    than a broadcast outer product (np.matmul, by contrast, copies g.T first and is slow)."""
    return np.dot(g.T, flat, out=out)


def _fully_connected_grad(attrs, inputs, outputs, out_grads, out=None):
    """out: as grad_utils says of gradients that write into buffers."""
    bias = inputs[2] if len(inputs) > 2 else _NO_BIAS
    return _fully_connected_grads(attrs["flatten"], inputs[0], inputs[1], bias, out_grads[0],
                                  out)


_fully_connected_grad.writes_into = True   # accepts out= (compiled backward programs)
_NO_BIAS = object()


def _fully_connected_grads(flatten, data, weight, bias, g, out):
    """The gradients of data, weight and (unless _NO_BIAS) bias; out as _fully_connected_grad's."""
    if flatten:
        flat = data.reshape(data.shape[0], -1)
    else:
        flat = data.reshape(-1, data.shape[-1])
        g = g.reshape(-1, g.shape[-1])
    weight_out = bias_out = None
    has_bias = bias is not _NO_BIAS
    if out is not None and g.dtype == flat.dtype:
        weight_out = fits_buffer(out[1], (g.shape[1], flat.shape[1]), g.dtype)
        if has_bias and len(out) > 2:
            bias_out = fits_buffer(out[2], (g.shape[1],), g.dtype)
    data_grad = None if out is not None and out[0] is False else \
        np.dot(g, weight).reshape(data.shape)
    weight_grad = None if out is not None and out[1] is False else \
        _outer_sum(g, flat, weight_out)
    if not has_bias:
        return [data_grad, weight_grad]
    return [data_grad, weight_grad,
            None if out is not None and len(out) > 2 and out[2] is False
            else g.sum(axis=0, out=bias_out)]


def fully_connected_grad(data, weight, bias, output, out_grad, out=None):
    """The gradient of fully_connected, bound by _fully_connected_grad_specialize."""
    return _fully_connected_grads(True, data, weight, bias, out_grad, out)


def fully_connected_nd_grad(data, weight, bias, output, out_grad, out=None):
    return _fully_connected_grads(False, data, weight, bias, out_grad, out)


def fully_connected_no_bias_grad(data, weight, output, out_grad, out=None):
    return _fully_connected_grads(True, data, weight, _NO_BIAS, out_grad, out)


def fully_connected_nd_no_bias_grad(data, weight, output, out_grad, out=None):
    return _fully_connected_grads(False, data, weight, _NO_BIAS, out_grad, out)


_FULLY_CONNECTED_GRADS = {(True, False): fully_connected_grad,
                          (False, False): fully_connected_nd_grad,
                          (True, True): fully_connected_no_bias_grad,
                          (False, True): fully_connected_nd_no_bias_grad}
for _grad in _FULLY_CONNECTED_GRADS.values():
    _grad.writes_into = True


def _fully_connected_grad_specialize(attrs):
    return _FULLY_CONNECTED_GRADS[attrs["flatten"], attrs["no_bias"]]


def fully_connected(data, weight, bias=None):
    """FullyConnected with flatten=True, bound by _fully_connected_specialize."""
    rows = data if data.ndim == 2 else data.reshape(data.shape[0], -1)
    return _product(data, weight, bias, True, rows)


def fully_connected_nd(data, weight, bias=None):
    """FullyConnected with flatten=False, bound by _fully_connected_specialize."""
    return _product(data, weight, bias, False, data)


def _fully_connected_specialize(attrs):
    """No attribute parsing per call: a product plus an in-place bias add."""
    return fully_connected if attrs["flatten"] else fully_connected_nd


register(Op("FullyConnected", _fully_connected, _fully_connected_shape, inputs=_fc_inputs,
            grad=_fully_connected_grad, specialize=_fully_connected_specialize,
            specialize_grad=_fully_connected_grad_specialize,
            attrs={"num_hidden": A.Int(), "no_bias": A.Bool(False), "flatten": A.Bool(True)}))


# Each training output's mask, by the output array's identity: the gradient needs the mask,
# which the output cannot tell where the input was zero (a kept zero and a dropped one are
# both 0). Entries go with their output array.
_dropout_masks = {}


def _forget_mask(key):
    _dropout_masks.pop(key, None)


def _dropout(data, *, p=0.5, mode="training", axes=(), cudnn_off=False, training=False):
    if axes:
        axes = normalize_axes("Dropout", axes, data.ndim, (data,))
    if p <= 0 or (mode == "training" and not training):
        return data
    mask_shape = tuple(1 if i in axes else n for i, n in enumerate(data.shape))
    scaled_mask = ((generator().random(mask_shape) >= p) / (1.0 - p)).astype(data.dtype)
    output = data * scaled_mask
    _dropout_masks[id(output)] = (weakref.ref(output), scaled_mask)
    weakref.finalize(output, _forget_mask, id(output))
    return output


def _dropout_grad(attrs, inputs, outputs, out_grads):
    p = attrs["p"]
    g = out_grads[0]
    if p <= 0 or (attrs["mode"] == "training" and not attrs.get("training", False)):
        return [g]
    entry = _dropout_masks.get(id(outputs[0]))
    if entry is not None and entry[0]() is outputs[0]:
        return [g * entry[1]]
    # the output without its mask: where the input is not zero, the output says whether the
    # element was kept; where it is, nothing does, so the gradient is not known there
    data, output = inputs[0], outputs[0]
    if np.any(data == 0):
        raise OpError("Dropout: the gradient needs the mask of this output, which was not "
                      "kept with it (the output was copied) and cannot be told from the "
                      "output where the input is zero")
    return [g * ((output != 0) / (1.0 - p)).astype(g.dtype)]


def _dropout_shape(attrs, in_shapes):
    data = known("Dropout", in_shapes)[0]
    normalize_axes("Dropout", attrs["axes"], len(data), in_shapes)
    return [data], [data]


register(Op("Dropout", _dropout, _dropout_shape, mode_dependent=True, grad=_dropout_grad,
            attrs={"p": A.Float(0.5), "mode": A.Str("training", ("training", "always")),
                   "axes": A.Shape(()), "cudnn_off": A.Bool(False)}))


def _softmax_inputs(attrs):
    if attrs is None or attrs["use_length"]:
        return ("data", "length")
    return ("data",)


def _softmax_axis(op_name, axis, data, length, shapes):
    """The axis softmax and log_softmax normalize along, and with a length input its shape:
    the data's without that axis (checked by rule and kernel alike)."""
    axis = normalize_axis(op_name, axis, len(data), shapes)
    if length is not None:
        want = tuple(data[:axis] + data[axis + 1:]) or (1,)
        require(tuple(length) == want, op_name, f"length must have shape {want}", shapes)
    return axis


def _valid(data, length, axis):
    """Where the first `length` entries along `axis` are (MXNet truncates lengths to
    integers); None without a length input."""
    if length is None:
        return None
    steps = np.arange(data.shape[axis]).reshape((-1,) + (1,) * (data.ndim - axis - 1))
    return steps < np.expand_dims(length.astype(np.intp, copy=False).reshape(
        data.shape[:axis] + data.shape[axis + 1:]), axis)


def _softmax_parts(op_name, data, length, axis, temperature):
    """(shifted scores, their exponentials, the sum of those, valid mask): masked entries
    count for nothing, and a row of length 0 sums to 0."""
    axis = _softmax_axis(op_name, axis, data.shape, None if length is None else length.shape,
                         (data,) if length is None else (data, length))
    if temperature is not None and temperature != 1.0:
        data = data / np.asarray(temperature, dtype=data.dtype)
    valid = _valid(data, length, axis)
    if valid is None:
        shifted = data - np.max(data, axis=axis, keepdims=True)
        exps = np.exp(shifted)
    else:
        top = np.max(np.where(valid, data, -np.inf), axis=axis, keepdims=True)
        shifted = data - np.where(np.isfinite(top), top, 0).astype(data.dtype, copy=False)
        with np.errstate(over="ignore"):     # masked entries may be anything; they are dropped
            exps = np.where(valid, np.exp(shifted), 0).astype(data.dtype, copy=False)
    return shifted, exps, np.sum(exps, axis=axis, keepdims=True), valid


def _softmax(data, length=None, *, axis=-1, temperature=None, dtype=None, use_length=False):
    _, exps, total, valid = _softmax_parts("softmax", data, length, axis, temperature)
    out = exps / (total if valid is None else np.where(total > 0, total, 1))
    return out.astype(dtype or data.dtype, copy=False)


def _log_softmax(data, length=None, *, axis=-1, temperature=None, dtype=None,
                 use_length=False):
    if length is None and temperature in (None, 1.0) and dtype is None and \
            data.dtype.kind == "f" and -data.ndim <= axis < data.ndim:
        return _log_softmax_plain(data, axis)
    shifted, _, total, valid = _softmax_parts("log_softmax", data, length, axis, temperature)
    if valid is None:       # each total holds its largest entry's exp(0) = 1 (or is NaN)
        out = shifted - np.log(total)
    else:
        with np.errstate(divide="ignore"):      # a row of length 0 sums to 0
            out = np.where(valid, shifted - np.log(total), 0)
    return out.astype(dtype or data.dtype, copy=False)


def _log_softmax_plain(data, axis):
    """log_softmax of floats along a valid axis, without length, temperature or dtype:
    _softmax_parts' steps on one buffer, without its wrappers (a classifier's loss calls it
    on a few scores per step)."""
    shifted = data - np.maximum.reduce(data, axis=axis, keepdims=True)
    total = np.add.reduce(np.exp(shifted), axis=axis, keepdims=True)
    return np.subtract(shifted, np.log(total, out=total), out=shifted)


def _log_softmax_specialize(attrs):
    if attrs["use_length"] or attrs["temperature"] not in (None, 1.0) or attrs["dtype"]:
        return None
    axis = attrs["axis"]

    def log_softmax(data):     # the kernel's outputs are new arrays: no fresh_outputs wrapper
        return _log_softmax(data, axis=axis)
    return log_softmax


def _softmax_shape(op_name):
    def rule(attrs, in_shapes):
        data = known(op_name, in_shapes, 1)[0]
        if not attrs["use_length"]:
            _softmax_axis(op_name, attrs["axis"], data, None, in_shapes)
            return [data], [data]
        axis = normalize_axis(op_name, attrs["axis"], len(data), in_shapes)
        length = in_shapes[1] if in_shapes[1] is not None else \
            (tuple(data[:axis] + data[axis + 1:]) or (1,))
        _softmax_axis(op_name, axis, data, length, in_shapes)
        return [data, tuple(length)], [data]
    return rule


def _softmax_grad(attrs, inputs, outputs, out_grads):
    y, g, axis = outputs[0], out_grads[0], attrs["axis"]
    dx = y * (g - np.sum(g * y, axis=axis, keepdims=True))
    return [_unscale(dx, attrs).astype(inputs[0].dtype, copy=False)] + [None] * (len(inputs) - 1)


def _log_softmax_grad(attrs, inputs, outputs, out_grads):
    y, g, axis = outputs[0], out_grads[0], attrs["axis"]
    valid = _valid(inputs[0], inputs[1], axis % y.ndim) if len(inputs) > 1 else None
    if valid is None:
        dx = _log_softmax_plain_grad(y, g, axis)
    else:
        # masked entries hold 0, not a log-probability: they take no share of the gradient
        g = np.where(valid, g, 0)
        dx = np.where(valid, g - np.exp(y) * np.add.reduce(g, axis=axis, keepdims=True), 0)
    return [_unscale(dx, attrs).astype(inputs[0].dtype, copy=False)] + [None] * (len(inputs) - 1)


def _log_softmax_plain_grad(y, g, axis):
    """g - exp(y) * sum(g) along `axis`, the exponentials' buffer reused for the result."""
    scaled = np.exp(y)
    total = np.add.reduce(g, axis=axis, keepdims=True)
    if scaled.dtype != total.dtype or scaled.shape != g.shape:
        return g - scaled * total
    scaled *= total
    return np.subtract(g, scaled, out=scaled)


def _log_softmax_grad_specialize(attrs):
    if attrs["use_length"] or attrs["temperature"] not in (None, 1.0):
        return None
    axis = attrs["axis"]

    def log_softmax_grad(data, output, out_grad):
        return [_log_softmax_plain_grad(output, out_grad, axis).astype(data.dtype, copy=False)]
    return log_softmax_grad


def _unscale(dx, attrs):
    temperature = attrs["temperature"]
    if temperature is not None and temperature != 1.0:
        return dx / temperature
    return dx


# MXNet 1.9.1's log_softmax takes no length, so its second positional argument is the axis
for _name, _kernel, _grad, _keyword_inputs, _specialize, _specialize_grad in (
        ("softmax", _softmax, _softmax_grad, (), None, None),
        ("log_softmax", _log_softmax, _log_softmax_grad, ("length",), _log_softmax_specialize,
         _log_softmax_grad_specialize)):
    register(Op(_name, _kernel, _softmax_shape(_name), inputs=_softmax_inputs, fluent=True,
                grad=_grad, keyword_inputs=_keyword_inputs, specialize=_specialize,
                specialize_grad=_specialize_grad,
                attrs={"axis": A.Int(-1), "temperature": A.OptFloat(),
                       "dtype": A.OptStr(None, ("float16", "float32", "float64")),
                       "use_length": A.Bool(False)}))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_LAMBDA = 1.0507009873554804934193349852946


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
        _check_prelu_gamma(data.shape, gamma.shape, (data, gamma))
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
    if gamma is None:
        gamma = (_prelu_channels(data),)
    _check_prelu_gamma(data, gamma, in_shapes)
    return [data, tuple(gamma)], [data]


def _prelu_channels(data):
    return data[1] if len(data) > 1 else data[0]


def _check_prelu_gamma(data, gamma, shapes):
    """prelu's slopes: one, or one per channel (numpy would broadcast others)."""
    channels = _prelu_channels(data)
    if tuple(gamma) not in ((1,), (channels,)):
        raise shape_error("LeakyReLU", f"prelu's gamma must have shape (1,) or ({channels},)",
                          shapes)


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
    _check_embedding_weight(weight.shape, input_dim, output_dim, (data, weight))
    positions = np.clip(data.astype(np.intp, copy=False), 0, weight.shape[0] - 1)
    return weight[positions]


def _check_embedding_weight(weight, input_dim, output_dim, shapes):
    """The table the kernel gathers from has the declared size (it would take any other)."""
    if tuple(weight) != (input_dim, output_dim):
        raise shape_error("Embedding", f"weight must have shape {(input_dim, output_dim)}",
                          shapes)


def _embedding_shape(attrs, in_shapes):
    data = known("Embedding", in_shapes, 1)[0]
    weight = in_shapes[1] if in_shapes[1] is not None else (attrs["input_dim"],
                                                             attrs["output_dim"])
    _check_embedding_weight(weight, attrs["input_dim"], attrs["output_dim"], in_shapes)
    return [data, tuple(weight)], [data + (attrs["output_dim"],)]


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
