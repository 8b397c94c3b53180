"""Sliding-window layers over channel-first data (NCW, NCHW, NCDHW): Convolution and Pooling."""
import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..base import MXNetError
from . import attrs as A
from .grad_utils import buffer_for, fits_buffer, wanted
from .registry import REGISTRY, Op, OpError, check_arrays, register, shape_error
from .shapes import deduce, known, require, spatial_param, window_out_size

_LAYOUTS = {1: "NCW", 2: "NCHW", 3: "NCDHW"}
_CHANNEL_LAST = {1: "NWC", 2: "NHWC", 3: "NDHWC"}
_POOL_TYPES = ("max", "avg", "sum")             # of the declared ones, those computed here
_POOL_CONVENTIONS = ("valid", "full")


def _check_layout(op_name, layout, ndim, shapes):
    require(ndim in _LAYOUTS, op_name, f"kernel must have 1, 2 or 3 dimensions, not {ndim}",
            shapes)
    if layout == _CHANNEL_LAST[ndim]:
        # MXNet 1.9.1's CPU operators refuse channel-last convolutions with an MXNetError
        raise MXNetError(f"{op_name}: layout {layout!r} is not supported on CPU (only "
                         f"{_LAYOUTS[ndim]}), as in MXNet 1.9.1")
    require(layout is None or layout == _LAYOUTS[ndim], op_name,
            f"layout {layout!r} is not supported (only {_LAYOUTS[ndim]})", shapes)


def _channel_last(layout, ndim):
    """Whether Pooling's `layout` puts the channels last (NWC, NHWC, NDHWC)."""
    return layout is not None and layout == _CHANNEL_LAST.get(ndim)


def _to_channel_first(shape):
    return shape[:1] + shape[-1:] + shape[1:-1]


def _to_channel_last(shape):
    return shape[:1] + shape[2:] + shape[1:2]


def _pad(data, pad, value=0, extra=None):
    """Pad the spatial axes by `pad` on both sides (plus `extra` more at the end): the interior
    copied once into a new buffer and only the border set to `value` (np.pad's values, without
    its passes, nor a pass filling the whole buffer)."""
    extra = extra or (0,) * len(pad)
    if not any(pad) and not any(extra):
        return data
    sizes = data.shape[2:]
    padded = np.empty(data.shape[:2] + tuple(s + 2 * p + e for s, p, e in zip(sizes, pad, extra)),
                      dtype=data.dtype)
    padded[(Ellipsis,) + tuple(slice(p, p + s) for p, s in zip(pad, sizes))] = data
    before = (slice(None),) * 2
    for p, s in zip(pad, sizes):
        padded[before + (slice(None, p),)] = value
        padded[before + (slice(p + s, None),)] = value
        before += (slice(None),)
    return padded


def _windows(data, kernel, stride, dilate, out):
    """A read-only view (N, C, *out, *kernel) of every window of channel-first `data`."""
    spatial = data.strides[2:]
    shape = data.shape[:2] + tuple(out) + tuple(kernel)
    strides = (data.strides[:2] + tuple(s * t for s, t in zip(spatial, stride))
               + tuple(s * d for s, d in zip(spatial, dilate)))
    return as_strided(data, shape, strides, writeable=False)


def _conv_params(kernel, stride, dilate, pad):
    ndim = len(kernel)
    return (tuple(stride) or (1,) * ndim, tuple(dilate) or (1,) * ndim, tuple(pad) or (0,) * ndim)


def _convolution(data, weight, bias=None, *, kernel, num_filter, stride=(), dilate=(), pad=(),
                 num_group=1, no_bias=False, layout=None, workspace=1024, cudnn_tune=None,
                 cudnn_off=False):
    """im2col through a strided view and one matrix product batched over groups; depthwise
    convolutions (one input channel per group) sum shifted views instead."""
    source = data
    stride, dilate, pad = _conv_params(kernel, stride, dilate, pad)
    ndim = len(kernel)
    attrs = (kernel, num_filter, stride, dilate, pad, num_group, layout)
    if not _positive_geometry(kernel, stride, dilate, pad) or \
            layout not in (None, _LAYOUTS.get(ndim)):
        _refuse_convolution(source, weight, bias, *attrs)
    data = _pad(data, pad)
    n, channels = data.shape[:2]
    out = tuple(window_out_size(s, k, st, 0, d)
                for s, k, st, d in zip(data.shape[2:], kernel, stride, dilate))
    if not _fits_windows(data, weight, bias, kernel, num_filter, num_group, out):
        _refuse_convolution(source, weight, bias, *attrs)
    g = num_group
    cg = channels // g
    if g == 1:
        return _ungrouped_product(data, weight.reshape(num_filter, -1), bias, kernel, stride,
                                  dilate, out)
    if cg == 1:
        result = _depthwise(data, weight, kernel, stride, dilate, out, num_filter // g)
    else:
        result = _im2col_product(data, weight, kernel, stride, dilate, out, g, num_filter)
    if bias is not None:
        result = result + bias.reshape((1, num_filter) + (1,) * ndim)
    return result


def _ungrouped_product(padded, rows, bias, kernel, stride, dilate, out):
    """The contiguous channel-first (N, F, *out) result of an ungrouped convolution of padded
    channel-first data with the (F, C*K) weight rows: per sample, the rows times the (C*K, P)
    columns of its windows, gathered in (C, *k) order (each column row a run along the data's
    last axis), then the bias. The table's kernel and the specialized one both compute it so,
    so that their products sum in one order and agree bit for bit."""
    ndim = len(kernel)
    n, channels = padded.shape[:2]
    positions = math.prod(out)
    if _shifts_pay(kernel, stride, channels, rows.shape[0]):
        return _add_bias(_shifted_product(padded, rows, kernel, dilate, out), bias)
    if all(k == 1 for k in kernel) and all(s == 1 for s in stride):
        columns = padded.reshape(n, channels, positions)     # a view of contiguous data
    else:
        steps = padded.strides[2:]
        shape = (n, channels) + tuple(kernel) + tuple(out)
        strides = (padded.strides[:2] + tuple(steps[i] * dilate[i] for i in range(ndim))
                   + tuple(steps[i] * stride[i] for i in range(ndim)))
        columns = as_strided(padded, shape, strides, writeable=False).reshape(
            n, rows.shape[1], positions)
    result = np.matmul(rows, columns).reshape((n, rows.shape[0]) + tuple(out))
    return _add_bias(result, bias)


def _add_bias(result, bias):
    """The channel-first `result` plus the per-filter bias (into it where the dtypes agree)."""
    if bias is None:
        return result
    column = bias.reshape((-1,) + (1,) * (result.ndim - 2))
    if bias.dtype == result.dtype:
        result += column
        return result
    return result + column


def _shifts_pay(kernel, stride, channels, filters):
    """Whether a 2-d stride-1 convolution multiplies shifted views of the flattened data
    (`_shifted_product`) rather than gathered columns. The columns cost a copy of C*K values
    per position, about 1/F of the product's work; the shifts cost K extra sums of F values
    per position, about 1/C of it: measured, the shifts win from four channels per filter on
    (DenseNet's 128 to 32), and lose or tie below."""
    return (len(kernel) == 2 and tuple(kernel) != (1, 1) and tuple(stride) == (1, 1)
            and channels >= 4 * filters)


def _shifted_product(padded, rows, kernel, dilate, out):
    """An ungrouped 2-d stride-1 convolution without gathered columns: per sample, the sum
    over kernel offsets (in row-major order) of the offset's (F, C) weights times the (C, L)
    view of the flattened data that starts at the offset. Along each flattened row the last
    kernel-width-1 positions straddle two image rows; the result leaves them out."""
    n, channels, height, width = padded.shape
    filters = rows.shape[0]
    (kh, kw), (dh, dw), (oh, ow) = kernel, dilate, out
    length = (oh - 1) * width + ow
    taps = np.ascontiguousarray(rows.reshape(filters, channels, kh, kw).transpose(2, 3, 0, 1))
    dtype = np.result_type(padded, rows)
    result = np.empty((n, filters, oh, ow), dtype=dtype)
    total = np.empty((filters, length), dtype=dtype)
    part = np.empty_like(total)
    itemsize = total.itemsize
    for sample in range(n):
        flat = padded[sample].reshape(channels, height * width)
        for index, (i, j) in enumerate(itertools.product(range(kh), range(kw))):
            start = i * dh * width + j * dw
            np.matmul(taps[i, j], flat[:, start:start + length], out=part if index else total)
            if index:
                total += part
        result[sample] = as_strided(total, (filters, oh, ow),
                                    (total.strides[0], width * itemsize, itemsize),
                                    writeable=False)
    return result


def _refuse_convolution(data, weight, bias, kernel, num_filter, stride, dilate, pad, num_group,
                        layout):
    """The shape rule's OpError for the general kernel's inputs; returns if it takes them."""
    check_arrays("Convolution", {"kernel": kernel, "num_filter": num_filter, "stride": stride,
                                 "dilate": dilate, "pad": pad, "num_group": num_group,
                                 "no_bias": bias is None, "layout": layout},
                 (data, weight, bias))


def _shapes(*inputs):
    """The shapes of a kernel's inputs (arrays, or shapes already), bias None left out."""
    return [getattr(x, "shape", x) for x in inputs if x is not None]


def _positive_geometry(kernel, stride, dilate, pad):
    """Whether window views over these sizes stay inside the (padded) data; dilate () for
    pooling, which has none."""
    return (len(stride) == len(pad) == len(kernel) and len(dilate) in (0, len(kernel))
            and min(kernel + stride + dilate, default=1) > 0 and min(pad, default=0) >= 0)


def _check_geometry(op_name, kernel, stride, dilate, pad, shapes):
    if not _positive_geometry(kernel, stride, dilate, pad):
        sizes = f"kernel {kernel}, stride {stride}" + (f", dilate {dilate}" if dilate else "")
        raise shape_error(op_name, f"{sizes} must be positive and pad {pad} not negative",
                          shapes)


def _fits_windows(padded, weight, bias, kernel, filters, groups, out):
    """A cheap test that a convolution's inputs fit its attributes: where it fails, the shape
    rule decides (the window views and products would take some misfits without an error)."""
    return (padded.ndim == len(kernel) + 2 and groups > 0 and min(out, default=1) > 0
            and weight.shape == (filters, padded.shape[1] // groups) + tuple(kernel)
            and (bias is None or bias.shape == (filters,)))


def _depthwise(data, weight, kernel, stride, dilate, out, multiplier):
    """One input channel per group: a sum over kernel offsets of scaled shifted views, each
    product written into one scratch array and added into the result in place."""
    n, channels = data.shape[:2]
    ndim = len(kernel)
    w = weight.reshape((channels, multiplier) + tuple(kernel))
    dtype = np.result_type(data, weight)
    result = np.zeros((n, channels, multiplier) + out, dtype=dtype)
    product = np.empty_like(result)
    for offset in np.ndindex(*kernel):
        key = (slice(None), slice(None)) + tuple(
            slice(i * d, i * d + (o - 1) * st + 1, st)
            for i, d, o, st in zip(offset, dilate, out, stride))
        scale = w[(slice(None), slice(None)) + offset].reshape((1, channels, multiplier)
                                                               + (1,) * ndim)
        np.multiply(data[key][:, :, None], scale, out=product)
        result += product
    return result.reshape((n, channels * multiplier) + out)


def _im2col_product(data, weight, kernel, stride, dilate, out, g, num_filter):
    n, channels = data.shape[:2]
    ndim = len(kernel)
    cg = channels // g
    windows = _windows(data, kernel, stride, dilate, out)      # (N, C, *out, *k)
    positions = math.prod(out)
    ksize = math.prod(kernel)
    # (N, G, Cg, *out, *k) -> (G, N, *out, Cg, *k) -> (G, N*P, Cg*K)
    windows = windows.reshape((n, g, cg) + out + tuple(kernel))
    order = (1, 0) + tuple(range(3, 3 + ndim)) + (2,) + tuple(range(3 + ndim, 3 + 2 * ndim))
    cols = windows.transpose(order).reshape(g, n * positions, cg * ksize)
    w = weight.reshape(g, num_filter // g, cg * ksize).transpose(0, 2, 1)
    result = np.matmul(cols, w)                               # (G, N*P, F/G)
    result = result.reshape((g, n, positions, num_filter // g)).transpose(1, 0, 3, 2)
    return result.reshape((n, num_filter) + out)


def _conv_inputs(attrs):
    if attrs is not None and attrs["no_bias"]:
        return ("data", "weight")
    return ("data", "weight", "bias")


def _convolution_shape(attrs, in_shapes):
    name = "Convolution"
    data = known(name, in_shapes, 1)[0]
    kernel = attrs["kernel"]
    ndim = len(kernel)
    _check_layout(name, attrs["layout"], ndim, in_shapes)
    require(len(data) == ndim + 2, name, f"data must have {ndim + 2} dimensions for a "
            f"{ndim}-d kernel {kernel}", in_shapes)
    stride = spatial_param(name, attrs, "stride", ndim, 1, in_shapes)
    dilate = spatial_param(name, attrs, "dilate", ndim, 1, in_shapes)
    pad = spatial_param(name, attrs, "pad", ndim, 0, in_shapes)
    _check_geometry(name, tuple(kernel), stride, dilate, pad, in_shapes)
    groups, filters = attrs["num_group"], attrs["num_filter"]
    require(groups > 0 and data[1] % groups == 0 and filters % groups == 0, name,
            f"num_group={groups} must divide the {data[1]} input channels and "
            f"num_filter={filters}", in_shapes)
    out = tuple(window_out_size(s, k, st, p, d)
                for s, k, st, p, d in zip(data[2:], kernel, stride, pad, dilate))
    require(all(o > 0 for o in out), name, f"kernel {kernel} (dilate {dilate}) is larger than "
            f"the padded input", in_shapes)
    expected = [None, (filters, data[1] // groups) + tuple(kernel)]
    if not attrs["no_bias"]:
        expected.append((filters,))
    shapes = deduce(name, in_shapes, expected, _conv_inputs(attrs))
    return shapes, [(data[0], filters) + out]


def _convolution_grad(attrs, inputs, outputs, out_grads, out=None):
    """Gradients through im2col: the weight's from the windows and the output's gradient,
    the data's by scattering the columns' gradient back onto the (padded) input (col2im).
    out: as grad_utils says of gradients that write into buffers."""
    kernel = tuple(attrs["kernel"])
    stride, dilate, pad = _conv_params(kernel, attrs["stride"], attrs["dilate"], attrs["pad"])
    bias = inputs[2] if len(inputs) > 2 else None
    return _convolution_grads(inputs[0], inputs[1], bias, out_grads[0], kernel, stride, dilate,
                              pad, attrs["num_group"], out)


_convolution_grad.writes_into = True


def _convolution_grads(data, weight, bias, g, kernel, stride, dilate, pad, groups, out):
    """The gradients of data, weight and (unless bias is None) bias; out as grad_utils says."""
    grads = [conv_data_grad(g, weight, data.shape, data.dtype, kernel, stride, dilate, pad,
                            groups) if wanted(out, 0) else None,
             conv_weight_grad(data, weight, g, kernel, stride, dilate, pad, groups,
                              buffer_for(out, 1)) if wanted(out, 1) else None]
    if bias is not None:
        grads.append(_bias_grad(g, bias, buffer_for(out, 2)) if wanted(out, 2) else None)
    return grads


def _bias_grad(g, bias, buffer):
    """The sum of the output's gradient over all but the filter axis, as the bias's dtype."""
    axes = (0,) + tuple(range(2, g.ndim))
    into = fits_buffer(buffer, bias.shape, bias.dtype) if g.dtype == bias.dtype else None
    if into is not None:
        return np.add.reduce(g, axis=axes, out=into)
    return g.sum(axis=axes).astype(bias.dtype)


def _convolution_grad_specialize(attrs):
    """The gradient with its attributes parsed once (what the table's computes)."""
    kernel = tuple(attrs["kernel"])
    stride, dilate, pad = _conv_params(kernel, attrs["stride"], attrs["dilate"], attrs["pad"])
    groups = attrs["num_group"]
    if attrs["no_bias"]:
        def convolution_no_bias_grad(data, weight, output, out_grad, out=None):
            return _convolution_grads(data, weight, None, out_grad, kernel, stride, dilate,
                                      pad, groups, out)
        bound = convolution_no_bias_grad
    else:
        def convolution_grad(data, weight, bias, output, out_grad, out=None):
            return _convolution_grads(data, weight, bias, out_grad, kernel, stride, dilate,
                                      pad, groups, out)
        bound = convolution_grad
    bound.writes_into = True
    return bound


def conv_weight_grad(data, weight, g, kernel, stride, dilate, pad, groups, buffer=None):
    """The gradient of a convolution's weight (F, C/groups, *kernel) given its unpadded input
    `data` and the gradient `g` of its output; written into `buffer` where it fits."""
    ndim = len(kernel)
    padded = _pad(data, pad)
    n, channels = padded.shape[:2]
    num_filter = weight.shape[0]
    out = g.shape[2:]
    cg, fg = channels // groups, num_filter // groups
    positions = math.prod(out)
    ksize = math.prod(kernel)
    windows = _windows(padded, kernel, stride, dilate, out).reshape(
        (n, groups, cg) + out + kernel)
    order = (1, 0) + tuple(range(3, 3 + ndim)) + (2,) + tuple(range(3 + ndim, 3 + 2 * ndim))
    cols = windows.transpose(order).reshape(groups, n * positions, cg * ksize)
    g_cols = g.reshape(n, groups, fg, positions).transpose(1, 0, 3, 2).reshape(
        groups, n * positions, fg)
    product_dtype = np.result_type(g_cols, cols)
    into = fits_buffer(buffer, weight.shape, weight.dtype) if product_dtype == weight.dtype \
        else None
    if into is not None:
        np.matmul(g_cols.transpose(0, 2, 1), cols, out=into.reshape(groups, fg, cg * ksize))
        return into
    d_weight = np.matmul(g_cols.transpose(0, 2, 1), cols).reshape(weight.shape)
    return d_weight.astype(weight.dtype, copy=False)


def conv_data_grad(g, weight, data_shape, dtype, kernel, stride, dilate, pad, groups):
    """The gradient of a convolution's input of shape `data_shape` given the weight and the
    gradient `g` of its output: the columns' gradient scattered back (col2im). Positions no
    window reaches (the padding, a remainder the stride skips) get zeros."""
    kernel = tuple(kernel)
    ndim = len(kernel)
    n, channels = data_shape[:2]
    padded_shape = (n, channels) + tuple(s + 2 * p for s, p in zip(data_shape[2:], pad))
    num_filter = weight.shape[0]
    out = g.shape[2:]
    cg, fg = channels // groups, num_filter // groups
    positions = math.prod(out)
    ksize = math.prod(kernel)
    # output gradient (N, F, *out) -> (G, N*P, F/G)
    g_cols = g.reshape(n, groups, fg, positions).transpose(1, 0, 3, 2).reshape(
        groups, n * positions, fg)
    w = weight.reshape(groups, fg, cg * ksize)
    d_cols = np.matmul(g_cols, w)                              # (G, N*P, Cg*K)
    # (G, N, *out, Cg, *k) -> (N, G, Cg, *out, *k) -> (N, C, *out, *k)
    d_cols = d_cols.reshape((groups, n) + out + (cg,) + kernel)
    back = (1, 0, 2 + ndim) + tuple(range(2, 2 + ndim)) + tuple(range(3 + ndim, 3 + 2 * ndim))
    d_cols = d_cols.transpose(back).reshape((n, channels) + out + kernel)
    d_padded = np.zeros(padded_shape, dtype=np.result_type(dtype, g))
    for offset in np.ndindex(*kernel):
        key = (slice(None), slice(None)) + tuple(
            slice(i * d, i * d + (o - 1) * st + 1, st)
            for i, d, o, st in zip(offset, dilate, out, stride))
        d_padded[key] += d_cols[(Ellipsis,) + offset]
    unpad = (slice(None), slice(None)) + tuple(slice(p, p + s) for p, s in
                                               zip(pad, data_shape[2:]))
    return d_padded[unpad].astype(dtype, copy=False)


def _convolution_specialize(attrs):
    """Ungrouped convolutions as the table's kernel computes them (`_ungrouped_product`),
    without its attribute parsing and checks on every call."""
    kernel = tuple(attrs["kernel"])
    if attrs["num_group"] != 1 or not kernel:
        return None
    stride, dilate, pad = _conv_params(kernel, attrs["stride"], attrs["dilate"], attrs["pad"])
    if not _positive_geometry(kernel, stride, dilate, pad) or \
            attrs["layout"] not in (None, _LAYOUTS.get(len(kernel))):
        return None         # for the general kernel, which refuses them (the views below
        #                     would read outside the data)
    ndim, filters = len(kernel), attrs["num_filter"]
    spatial = range(ndim)
    padded = any(pad)

    def output_size(padded_data):
        sizes = padded_data.shape[2:]
        return tuple((sizes[i] - dilate[i] * (kernel[i] - 1) - 1) // stride[i] + 1
                     for i in spatial)

    def refuse(shapes):
        """The shape rule's OpError for inputs of these shapes; returns if it takes them."""
        REGISTRY["Convolution"].infer_shape(attrs, shapes)

    def convolution(data, weight, bias=None):
        if data.ndim != ndim + 2 or not _fits_windows(data, weight, bias, kernel, filters, 1,
                                                      (1,) * ndim):
            refuse(_shapes(data, weight, bias))
        source = data
        if padded:
            data = _pad(data, pad)
        out = output_size(data)
        if min(out) < 1:
            refuse(_shapes(source, weight, bias))
        return _ungrouped_product(data, weight.reshape(filters, -1), bias, kernel, stride,
                                  dilate, out)
    return convolution


register(Op("Convolution", _convolution, _convolution_shape, inputs=_conv_inputs,
            grad=_convolution_grad, specialize=_convolution_specialize,
            specialize_grad=_convolution_grad_specialize,
            attrs={"kernel": A.Shape(), "stride": A.Shape(()), "dilate": A.Shape(()),
                   "pad": A.Shape(()), "num_filter": A.Int(), "num_group": A.Int(1),
                   "workspace": A.Int(1024), "no_bias": A.Bool(False),
                   "cudnn_tune": A.OptStr(None, ("fastest", "limited_workspace", "off")),
                   "cudnn_off": A.Bool(False),
                   "layout": A.OptStr(None, ("NCDHW", "NCHW", "NCW", "NDHWC", "NHWC", "NWC"))}))


def _pool_geometry(spatial, kernel, stride, pad, global_pool, convention):
    if global_pool:
        ndim = len(spatial)
        return tuple(spatial), (1,) * ndim, (0,) * ndim, (1,) * ndim
    # MXNet's pooling reads the first entries of a longer stride or pad (GluonCV's DropBlock
    # gives a 2-d pooling four pads)
    stride = tuple(stride)[:len(kernel)] or (1,) * len(kernel)
    pad = tuple(pad)[:len(kernel)] or (0,) * len(kernel)
    out = tuple(window_out_size(s, k, st, p, ceil=convention == "full")
                for s, k, st, p in zip(spatial, kernel, stride, pad))
    return tuple(kernel), stride, pad, out


def _window_counts(size, kernel, stride, pad, out, include_pad):
    """How many elements each window along one axis averages over (MXNet's rule)."""
    start = np.arange(out) * stride - pad
    end = np.minimum(start + kernel, size + pad)
    if not include_pad:
        start, end = np.maximum(start, 0), np.minimum(end, size)
    return np.maximum(end - start, 0)


def _pooling_input(data, pool_type, kernel, stride, pad, pooling_convention):
    """(kernel, stride, pad, output size, data padded to cover every window): padding with
    the lowest finite value for max pooling (so windows wholly in the padding give it, as in
    MXNet), with zeros otherwise, and far enough for the windows 'full' adds at the end."""
    kernel, stride, pad, out = _pool_geometry(data.shape[2:], kernel, stride, pad, False,
                                              pooling_convention)
    extra = tuple(max(0, (o - 1) * st + k - (s + 2 * p))
                  for o, st, k, s, p in zip(out, stride, kernel, data.shape[2:], pad))
    if pool_type == "max":
        low = (np.finfo(data.dtype) if np.issubdtype(data.dtype, np.floating)
               else np.iinfo(data.dtype)).min
        return kernel, stride, pad, out, _pad(data, pad, low, extra)
    return kernel, stride, pad, out, _pad(data, pad, 0, extra)


def _pooling(data, *, kernel=(), pool_type="max", global_pool=False, cudnn_off=False,
             pooling_convention="valid", stride=(), pad=(), p_value=None,
             count_include_pad=None, layout=None):
    ndim = data.ndim - 2
    if _channel_last(layout, ndim):
        # channel-last pooling (MXNet takes it on CPU): pool the channel-first view
        result = _pooling(np.moveaxis(data, -1, 1), kernel=kernel, pool_type=pool_type,
                          global_pool=global_pool, pooling_convention=pooling_convention,
                          stride=stride, pad=pad, p_value=p_value,
                          count_include_pad=count_include_pad, layout=_LAYOUTS[ndim])
        return np.ascontiguousarray(np.moveaxis(result, 1, -1))
    attrs = (kernel, pool_type, global_pool, pooling_convention, stride, pad, layout)
    if layout not in (None, _LAYOUTS.get(ndim)) or pool_type not in _POOL_TYPES \
            or pooling_convention not in _POOL_CONVENTIONS \
            or not global_pool and len(kernel) != ndim:
        _refuse_pooling(data, *attrs)          # what the windows below would misread
    spatial_axes = tuple(range(2, data.ndim))
    if global_pool:
        if pool_type == "max":
            return np.max(data, axis=spatial_axes, keepdims=True)
        if pool_type == "sum":
            return np.sum(data, axis=spatial_axes, keepdims=True)
        return np.mean(data, axis=spatial_axes, keepdims=True)
    kernel, stride, pad, out, padded = _pooling_input(data, pool_type, kernel, stride, pad,
                                                      pooling_convention)
    if not _positive_geometry(kernel, stride, (), pad) or min(out, default=1) < 1:
        _refuse_pooling(data, *attrs)
    combine = np.maximum if pool_type == "max" else np.add
    if _reduces_windows(kernel, out):
        result = _reduced_windows(padded, kernel, stride, out, combine)
    elif pool_type == "max":
        result = np.ascontiguousarray(_separable_max(padded, kernel, stride, out))
    else:
        result = None
        for offset in itertools.product(*map(range, kernel)):
            key = (slice(None), slice(None)) + tuple(
                slice(i, i + (o - 1) * st + 1, st) for i, o, st in zip(offset, out, stride))
            part = padded[key]
            result = part.copy() if result is None else combine(result, part, out=result)
    if pool_type == "avg":
        include_pad = True if count_include_pad is None else count_include_pad
        counts = np.ones((), dtype=np.int64)
        for axis in range(ndim):
            c = _window_counts(data.shape[2 + axis], kernel[axis], stride[axis], pad[axis],
                               out[axis], include_pad)
            counts = np.multiply.outer(counts, c)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(counts > 0, 1.0 / np.maximum(counts, 1), 0.0).astype(data.dtype)
        result *= scale
    return result


_MANY_OFFSETS = 16     # a kernel of more offsets over fewer windows reduces a copy of them


def _reduces_windows(kernel, out):
    """Whether a pooling combines a copy of its windows in one reduction rather than one strided
    view per kernel offset: for large kernels over few windows (SqueezeNet's 13x13 average
    pooling of a 13x13 image, 169 offsets of one position each)."""
    count = math.prod(kernel)
    return count > _MANY_OFFSETS and math.prod(out) <= count


def _reduced_windows(padded, kernel, stride, out, combine):
    """The max or sum (`combine` np.maximum or np.add) of each window of channel-first
    `padded`, reduced along a contiguous copy of the windows: it sums in one order whatever
    the data's memory order, so the table's kernel and the specialized one agree bit for bit."""
    ndim = len(kernel)
    windows = np.ascontiguousarray(_windows(padded, kernel, stride, (1,) * ndim, out))
    flat = windows.reshape(windows.shape[:2 + ndim] + (-1,))
    return combine.reduce(flat, axis=-1, dtype=flat.dtype)


def _separable_max(padded, kernel, stride, out):
    """The maximum of each window of channel-first `padded`, one spatial axis after another
    (the last first): a 3x3 window takes 2 + 2 maxima of strided views instead of 8. Maxima are
    exact, and of equal values (0.0 and -0.0) np.maximum keeps its second operand, so the
    survivor is the last in row-major order, as it is for a maximum over one view per offset.
    The first maximum allocates in the memory order of `padded`."""
    result, fresh = padded, False
    for axis in reversed(range(len(kernel))):
        span = (out[axis] - 1) * stride[axis] + 1
        before = (slice(None),) * (2 + axis)
        views = [result[before + (slice(i, i + span, stride[axis]),)]
                 for i in range(kernel[axis])]
        if len(views) == 1:
            result = views[0]
            continue
        result, fresh = np.maximum(views[0], views[1]), True
        for view in views[2:]:
            np.maximum(result, view, out=result)
    return result if fresh else result.copy()


def _refuse_pooling(data, kernel, pool_type, global_pool, pooling_convention, stride, pad,
                    layout):
    """The shape rule's OpError for the general kernel's input; returns if it takes it."""
    check_arrays("Pooling", {"kernel": kernel, "pool_type": pool_type,
                             "global_pool": global_pool, "pooling_convention":
                             pooling_convention, "stride": stride, "pad": pad,
                             "layout": layout}, (data,))


def _pooling_shape(attrs, in_shapes):
    name = "Pooling"
    data = known(name, in_shapes)[0]
    ndim = len(data) - 2
    if _channel_last(attrs["layout"], ndim):
        first = dict(attrs, layout=_LAYOUTS[ndim])
        try:
            _, (out,) = _pooling_shape(first, [_to_channel_first(tuple(data))])
        except OpError as err:     # the message names the shapes as given
            raise shape_error(name, str(err).split(": ", 1)[1].rsplit(" (input", 1)[0],
                              in_shapes) from None
        return [data], [_to_channel_last(out)]
    _check_layout(name, attrs["layout"], ndim, in_shapes)
    require(attrs["pool_type"] in _POOL_TYPES, name,
            f"pool_type={attrs['pool_type']!r} is not supported", in_shapes)
    require(attrs["pooling_convention"] in _POOL_CONVENTIONS, name,
            f"pooling_convention={attrs['pooling_convention']!r} is not supported", in_shapes)
    if attrs["global_pool"]:
        return [data], [data[:2] + (1,) * ndim]
    kernel = attrs["kernel"]
    require(len(kernel) == ndim, name, f"kernel {kernel} must have {ndim} entries for "
            f"{len(data)}-d data", in_shapes)
    # the first entries of a longer stride or pad, as the kernel reads them
    window = {key: tuple(attrs[key])[:ndim] for key in ("stride", "pad")}
    stride = spatial_param(name, window, "stride", ndim, 1, in_shapes)
    pad = spatial_param(name, window, "pad", ndim, 0, in_shapes)
    _check_geometry(name, tuple(kernel), stride, (), pad, in_shapes)
    out = _pool_geometry(data[2:], kernel, stride, pad, False, attrs["pooling_convention"])[3]
    require(all(o > 0 for o in out), name, f"kernel {kernel} is larger than the padded input",
            in_shapes)
    return [data], [data[:2] + out]


def _pooling_grad(attrs, inputs, outputs, out_grads):
    data, y, g = inputs[0], outputs[0], out_grads[0]
    if _channel_last(attrs["layout"], data.ndim - 2):
        first = dict(attrs, layout=_LAYOUTS[data.ndim - 2])
        (grad,) = _pooling_grad(first, [np.moveaxis(data, -1, 1)], [np.moveaxis(y, -1, 1)],
                                [np.moveaxis(g, -1, 1)])
        return [np.ascontiguousarray(np.moveaxis(grad, 1, -1))]
    pool_type = attrs["pool_type"]
    if attrs["global_pool"]:
        if pool_type == "max":
            first = _first_max_mask(data.reshape(data.shape[:2] + (-1,)), axis=2)
            return [g * first.reshape(data.shape)]
        size = int(np.prod(data.shape[2:], dtype=np.int64)) if pool_type == "avg" else 1
        return [np.broadcast_to(g / size, data.shape).astype(data.dtype)]
    kernel, stride, pad, out, padded = _pooling_input(
        data, pool_type, attrs["kernel"], attrs["stride"], attrs["pad"],
        attrs["pooling_convention"])
    if pool_type == "max":
        taken = np.zeros(y.shape, dtype=bool)
    elif pool_type == "avg":
        include_pad = True if attrs["count_include_pad"] is None else \
            attrs["count_include_pad"]
        counts = np.ones((), dtype=np.int64)
        for axis in range(len(kernel)):
            c = _window_counts(data.shape[2 + axis], kernel[axis], stride[axis], pad[axis],
                               out[axis], include_pad)
            counts = np.multiply.outer(counts, c)
        g = g * np.where(counts > 0, 1.0 / np.maximum(counts, 1), 0.0).astype(data.dtype)
    d_padded = np.zeros(padded.shape, dtype=data.dtype)
    for offset in np.ndindex(*kernel):
        key = (slice(None), slice(None)) + tuple(
            slice(i, i + (o - 1) * st + 1, st) for i, o, st in zip(offset, out, stride))
        if pool_type == "max":
            hit = (padded[key] == y) & ~taken    # the first maximum of each window
            taken |= hit
            d_padded[key] += g * hit
        else:
            d_padded[key] += g
    unpad = (slice(None), slice(None)) + tuple(slice(p, p + s) for p, s in
                                               zip(pad, data.shape[2:]))
    return [d_padded[unpad]]


def _first_max_mask(values, axis):
    first = np.argmax(values, axis=axis)
    mask = np.zeros(values.shape, dtype=values.dtype)
    np.put_along_axis(mask, np.expand_dims(first, axis), 1, axis=axis)
    return mask


def _pooling_specialize(attrs):
    """Unpadded max/sum/avg pooling: combinations of strided views, the first one allocating in
    the memory order of its input (so channel-last data stays channel-last), or the windows'
    reduction where the table's kernel reduces them. 'full' pooling is 'valid' pooling where
    the windows tile the data to its end (SqueezeNet's); elsewhere the table's kernel runs."""
    kernel = tuple(attrs["kernel"])
    stride = tuple(attrs["stride"]) or (1,) * len(kernel)
    pool_type = attrs["pool_type"]
    if (attrs["global_pool"] or any(attrs["pad"]) or len(kernel) not in _LAYOUTS
            or pool_type not in _POOL_TYPES or attrs["pooling_convention"] not in _POOL_CONVENTIONS
            or attrs["layout"] not in (None, _LAYOUTS[len(kernel)])
            or not _positive_geometry(kernel, stride, (), (0,) * len(kernel))):
        return None         # for the general kernel (the views below need sizes that fit)
    ndim = len(kernel)
    spatial = range(ndim)
    offsets = list(itertools.product(*map(range, kernel)))
    combine = np.maximum if pool_type == "max" else np.add
    count = len(offsets)
    full = attrs["pooling_convention"] == "full"
    scale = 1.0 / count

    def refuse(data):
        """The shape rule's OpError for this input; returns if it takes it."""
        check_arrays("Pooling", attrs, (data,))

    def runs_past_end(data):
        """Whether 'full' windows run past the end of `data` (the table's kernel pools it)."""
        return full and any((data.shape[2 + i] - kernel[i]) % stride[i] for i in spatial)

    def averaged(result, dtype):
        if pool_type == "avg":
            result *= np.asarray(scale).astype(dtype)
        return result

    def by_other_means(data, out):
        """The pooling where a path other than combining strided views computes it (the
        table's kernel, one reduction of the windows, or max one axis at a time), else None."""
        if runs_past_end(data):
            return _pooling(data, **attrs)
        if _reduces_windows(kernel, out):
            return averaged(_reduced_windows(data, kernel, stride, out, combine), data.dtype)
        if pool_type == "max":
            return _separable_max(data, kernel, stride, out)
        return None

    if ndim == 2 and count > 1:
        (kh, kw), (sh, sw) = kernel, stride
        rest = offsets[2:]

        def pooling2d(data):
            if data.ndim != 4 or data.shape[2] < kh or data.shape[3] < kw:
                refuse(data)
            height, width = data.shape[2:]
            out = ((height - kh) // sh + 1, (width - kw) // sw + 1)
            result = by_other_means(data, out)
            if result is not None:
                return result
            eh, ew = (out[0] - 1) * sh + 1, (out[1] - 1) * sw + 1
            (i0, j0), (i1, j1) = offsets[0], offsets[1]
            result = combine(data[:, :, i0:i0 + eh:sh, j0:j0 + ew:sw],
                             data[:, :, i1:i1 + eh:sh, j1:j1 + ew:sw])
            for i, j in rest:
                combine(result, data[:, :, i:i + eh:sh, j:j + ew:sw], out=result)
            return averaged(result, data.dtype)
        return pooling2d

    def pooling(data):
        sizes = data.shape[2:]
        if len(sizes) != ndim or any(sizes[i] < kernel[i] for i in spatial):
            refuse(data)
        out = tuple((sizes[i] - kernel[i]) // stride[i] + 1 for i in spatial)
        result = by_other_means(data, out)
        if result is not None:
            return result
        spans = tuple((out[i] - 1) * stride[i] + 1 for i in spatial)
        parts = [data[(slice(None), slice(None)) + tuple(
            slice(o[i], o[i] + spans[i], stride[i]) for i in spatial)] for o in offsets]
        if count == 1:
            result = parts[0].copy()
        else:
            result = combine(parts[0], parts[1])
            for part in parts[2:]:
                combine(result, part, out=result)
        return averaged(result, data.dtype)
    return pooling


register(Op("Pooling", _pooling, _pooling_shape, grad=_pooling_grad,
            specialize=_pooling_specialize, specialized_layout=True,
            attrs={"kernel": A.Shape(()),
                   "pool_type": A.Str("max", ("avg", "lp", "max", "sum")),
                   "global_pool": A.Bool(False), "cudnn_off": A.Bool(False),
                   "pooling_convention": A.Str("valid", ("full", "same", "valid")),
                   "stride": A.Shape(()), "pad": A.Shape(()), "p_value": A.OptInt(),
                   "count_include_pad": A.OptBool(),
                   "layout": A.OptStr(None, ("NCDHW", "NCHW", "NCW", "NDHWC", "NHWC", "NWC"))}))
