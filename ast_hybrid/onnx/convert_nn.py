"""Converters of the layers: dense, convolutions, pooling, normalization, activations, embedding."""
import math

import numpy as np

from ..ops.nn import _SELU_ALPHA, _SELU_LAMBDA
from .converters import converts

_SIMPLE_ACTIVATIONS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh",
                       "softrelu": "Softplus", "softsign": "Softsign"}


@converts("FullyConnected")
def fully_connected(g, node, inputs):
    data, weight = inputs[0], inputs[1]
    bias = inputs[2] if len(inputs) > 2 else None
    if node.attrs["flatten"]:
        if g.rank(node.inputs[0][0], node.inputs[0][1]) != 2:
            data = g.add("Flatten", [data], axis=1)
        return [g.add("Gemm", [data, weight] + ([bias] if bias else []), transB=1)]
    out = g.add("MatMul", [data, g.add("Transpose", [weight], perm=[1, 0])])
    return [g.add("Add", [out, bias]) if bias else out]


def _spatial(value, ndim, fill):
    return list(value) if value else [fill] * ndim


def _channel_first(g, node):
    ndim = len(node.attrs["kernel"]) if node.attrs.get("kernel") else g.rank(*node.inputs[0]) - 2
    if node.attrs.get("layout") not in (None, {1: "NCW", 2: "NCHW", 3: "NCDHW"}.get(ndim)):
        g.refuse(f"layout {node.attrs['layout']} has no ONNX form (ONNX is channel-first)")
    return ndim


@converts("Convolution")
def convolution(g, node, inputs):
    ndim = _channel_first(g, node)
    a = node.attrs
    pad = _spatial(a["pad"], ndim, 0)
    return [g.add("Conv", inputs, kernel_shape=list(a["kernel"]),
                  strides=_spatial(a["stride"], ndim, 1), dilations=_spatial(a["dilate"], ndim, 1),
                  pads=pad + pad, group=a["num_group"])]


@converts("Deconvolution")
def deconvolution(g, node, inputs):
    ndim = _channel_first(g, node)
    a = node.attrs
    if a["target_shape"]:
        g.refuse("target_shape is not supported; give pad and adj instead")
    pad = _spatial(a["pad"], ndim, 0)
    # MXNet's weight (in_channels, channels / groups, *kernel) is ONNX's layout already
    return [g.add("ConvTranspose", inputs, kernel_shape=list(a["kernel"]),
                  strides=_spatial(a["stride"], ndim, 1), dilations=_spatial(a["dilate"], ndim, 1),
                  pads=pad + pad, output_padding=_spatial(a["adj"], ndim, 0),
                  group=a["num_group"])]


@converts("Pooling")
def pooling(g, node, inputs):
    a = node.attrs
    ndim = _channel_first(g, node)
    if a["pool_type"] not in ("max", "avg", "sum"):
        g.refuse(f"pool_type {a['pool_type']!r} is not supported (max, avg, sum are)")
    if a["global_pool"]:
        axes = list(range(2, ndim + 2))
        if a["pool_type"] == "sum":
            return [g.add("ReduceSum", [inputs[0], g.ints(axes)], keepdims=1)]
        return [g.add({"max": "GlobalMaxPool", "avg": "GlobalAveragePool"}[a["pool_type"]],
                      inputs)]
    in_dims = g.static_dims(*node.inputs[0])[2:]
    if None in in_dims:
        g.refuse("its spatial axes are dynamic; the windows at the border need their sizes")
    kernel, stride = list(a["kernel"]), _spatial(a["stride"], ndim, 1)
    pad, out = _spatial(a["pad"], ndim, 0), g.static_dims(node)[2:]
    # the 'full' convention's last windows reach past the padding: pad the end that far too
    extra = [max(0, (o - 1) * s + k - (n + 2 * p))
             for o, s, k, n, p in zip(out, stride, kernel, in_dims, pad)]
    data = inputs[0]
    if any(pad) or any(extra):
        # pad explicitly as the kernel does: max pooling with the lowest finite value (a
        # window wholly in the padding gives it), average and sum pooling with zeros
        value = np.finfo(g.dtype).min if a["pool_type"] == "max" else 0
        data = g.add("Pad", [data, g.ints([0, 0] + pad + [0, 0] + [p + e for p, e in
                                                                    zip(pad, extra)]),
                             g.const(value, hint="pad_value")], mode="constant")
    if a["pool_type"] == "max":
        return [g.add("MaxPool", [data], kernel_shape=kernel, strides=stride)]
    pooled = g.add("AveragePool", [data], kernel_shape=kernel, strides=stride)
    scale = _average_scale(a, in_dims, kernel, stride, pad, out)
    if scale is None:
        return [pooled]
    return [g.add("Mul", [pooled, g.const(scale.reshape((1, 1) + tuple(out)), hint="scale")])]


def _average_scale(a, in_dims, kernel, stride, pad, out):
    """What the window mean must be multiplied by to give the kernel's result: its count of
    elements (MXNet's rule: the padding counts with count_include_pad, the 'full' windows'
    extra end never does) in place of the kernel's size; None where that is 1 everywhere."""
    from ..ops.conv import _window_counts
    include_pad = True if a["count_include_pad"] is None else a["count_include_pad"]
    size = math.prod(kernel)
    if a["pool_type"] == "sum":
        return np.full(out, float(size))
    counts = np.ones((), dtype=np.int64)
    for n, k, s, p, o in zip(in_dims, kernel, stride, pad, out):
        counts = np.multiply.outer(counts, _window_counts(n, k, s, p, o, include_pad))
    if np.all(counts == size):
        return None
    return np.where(counts > 0, size / np.maximum(counts, 1), 0.0)


@converts("BatchNorm")
def batch_norm(g, node, inputs):
    a = node.attrs
    if a["axis"] not in (1, 1 - g.rank(*node.inputs[0])):
        g.refuse(f"axis={a['axis']} is not supported (ONNX normalizes axis 1)")
    if a["output_mean_var"]:
        g.refuse("output_mean_var=True is not supported")
    data, gamma, beta, mean, var = inputs
    if a["fix_gamma"]:      # the kernel takes gamma as 1 then, whatever it holds
        channels = g.static_dims(*node.inputs[0])[1]
        gamma = g.const(np.ones(channels), hint="fixed_gamma")
    # the graph's BatchNorm in predict mode: the moving statistics, as a converted model runs
    return [g.add("BatchNormalization", [data, gamma, beta, mean, var], epsilon=a["eps"])]


@converts("LayerNorm")
def layer_norm(g, node, inputs):
    a = node.attrs
    rank = g.rank(*node.inputs[0])
    if a["axis"] not in (-1, rank - 1):
        g.refuse(f"axis={a['axis']} is not supported: ONNX's LayerNormalization normalizes "
                 "every axis from the given one on, MXNet's only the given one")
    if a["output_mean_var"]:
        g.refuse("output_mean_var=True is not supported")
    return [g.add("LayerNormalization", inputs, axis=-1, epsilon=a["eps"])]


@converts("InstanceNorm")
def instance_norm(g, node, inputs):
    return [g.add("InstanceNormalization", inputs, epsilon=node.attrs["eps"])]


@converts("GroupNorm")
def group_norm(g, node, inputs):
    # MXNet 1.x's GroupNorm scales each group: InstanceNormalization of (N, groups, rest)
    a = node.attrs
    if a["output_mean_var"]:
        g.refuse("output_mean_var=True is not supported")
    data, gamma, beta = inputs
    grouped = g.add("Reshape", [data, g.ints([0, a["num_groups"], -1], "groups")])
    normalized = g.add("InstanceNormalization", [grouped, gamma, beta], epsilon=a["eps"])
    return [g.add("Reshape", [normalized, g.add("Shape", [data])])]


@converts("Activation")
def activation(g, node, inputs):
    act = node.attrs["act_type"]
    if act not in _SIMPLE_ACTIVATIONS:
        g.refuse(f"act_type {act!r} is not supported")
    return [g.add(_SIMPLE_ACTIVATIONS[act], inputs)]


@converts("relu", "sigmoid", "tanh", "softsign")
def simple_activation(g, node, inputs):
    return [g.add(_SIMPLE_ACTIVATIONS[node.op.name], inputs)]


@converts("LeakyReLU")
def leaky_relu(g, node, inputs):
    a, data = node.attrs, inputs[0]
    act = a["act_type"]
    if act == "leaky":
        return [g.add("LeakyRelu", [data], alpha=a["slope"])]
    if act == "elu":
        return [g.add("Elu", [data], alpha=a["slope"])]
    if act == "selu":
        return [g.add("Selu", [data], alpha=_SELU_ALPHA, gamma=_SELU_LAMBDA)]
    if act == "gelu":       # the kernel's erf form: x / 2 * (1 + erf(x / sqrt(2)))
        scaled = g.add("Mul", [data, g.const(np.sqrt(0.5), hint="rsqrt2")])
        one_plus = g.add("Add", [g.add("Erf", [scaled]), g.const(1.0, hint="one")])
        return [g.add("Mul", [g.add("Mul", [data, g.const(0.5, hint="half")]), one_plus])]
    if act == "prelu":
        rank = g.rank(*node.inputs[0])
        gamma = inputs[1]
        if rank > 2:        # one slope per channel, axis 1: ONNX broadcasts from the last axis
            gamma = g.add("Reshape", [gamma, g.ints([-1] + [1] * (rank - 2))])
        return [g.add("PRelu", [data, gamma])]
    g.refuse(f"act_type {act!r} is not supported")


def _softmax(onnx_op):
    def convert(g, node, inputs):
        a, data = node.attrs, inputs[0]
        if a["use_length"]:
            g.refuse("use_length=True is not supported")
        if a["dtype"] is not None and np.dtype(a["dtype"]) != g.dtype:
            data = g.add("Cast", [data], to=_onnx_type(a["dtype"]))
        if a["temperature"] is not None and a["temperature"] != 1:
            data = g.add("Div", [data, g.const(a["temperature"], a["dtype"], "temperature")])
        return [g.add(onnx_op, [data], axis=a["axis"])]
    return convert


converts("softmax")(_softmax("Softmax"))
converts("log_softmax")(_softmax("LogSoftmax"))


def _onnx_type(dtype):
    from onnx import helper
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


@converts("Dropout")
def dropout(g, node, inputs):
    if node.attrs["mode"] == "always":
        g.refuse("mode='always' drops at prediction time too, at random")
    return [g.add("Identity", inputs)]      # a converted model predicts


@converts("Embedding")
def embedding(g, node, inputs):
    data, weight = inputs
    # the kernel truncates the indices to integers and clips them into the table
    positions = g.add("Cast", [data], to=_onnx_type(np.int64))
    positions = g.add("Clip", [positions, g.const(0, np.int64, "low"),
                               g.const(node.attrs["input_dim"] - 1, np.int64, "high")])
    return [g.add("Gather", [weight, positions], axis=0)]
