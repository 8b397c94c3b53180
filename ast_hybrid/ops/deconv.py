"""Deconvolution (transposed convolution) over channel-first data, MXNet's `Deconvolution`.

A deconvolution is the adjoint of a convolution with respect to its data: its input plays
the convolution's output, its weight (in_channels, num_filter / num_group, *kernel) is the
convolution's weight, and its output of shape (N, num_filter, *out) is the convolution's data,
where out = stride * (in - 1) + dilate * (kernel - 1) + 1 - 2 * pad + adj, or `target_shape`
when given (pad and adj are then deduced from it, as MXNet's InferPad does).
"""
import numpy as np

from . import attrs as A
from .conv import _check_layout, _convolution, conv_data_grad, conv_weight_grad
from .registry import REGISTRY, Op, check_arrays, register
from .shapes import deduce, known, require, spatial_param

_NAME = "Deconvolution"


def _geometry(attrs, spatial, shapes):
    """(stride, dilate, pad, adj, out) for input spatial sizes `spatial`, checked."""
    kernel = tuple(attrs["kernel"])
    ndim = len(kernel)
    stride = spatial_param(_NAME, attrs, "stride", ndim, 1, shapes)
    dilate = spatial_param(_NAME, attrs, "dilate", ndim, 1, shapes)
    pad = spatial_param(_NAME, attrs, "pad", ndim, 0, shapes)
    adj = spatial_param(_NAME, attrs, "adj", ndim, 0, shapes)
    require(min(kernel + stride + dilate) > 0 and min(pad + adj) >= 0, _NAME,
            f"kernel {kernel}, stride {stride}, dilate {dilate} must be positive and pad {pad}, "
            f"adj {adj} not negative", shapes)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilate))
    target = tuple(attrs["target_shape"])
    if any(target):
        require(len(target) == ndim, _NAME, f"target_shape={target} must have {ndim} entries "
                f"like kernel", shapes)
        pads, adjs = [], []
        for size, st, sp, want in zip(spatial, stride, span, target):
            total = st * (size - 1) + sp
            require(total >= want, _NAME, f"target_shape={target} is too big", shapes)
            total -= want
            adjs.append(total % 2)
            pads.append((total + 1) // 2)
        pad, adj = tuple(pads), tuple(adjs)
    require(all(a < s for a, s in zip(adj, stride)), _NAME,
            f"adj {adj} must be smaller than stride {stride}", shapes)
    out = tuple(st * (size - 1) + sp - 2 * p + a
                for size, st, sp, p, a in zip(spatial, stride, span, pad, adj))
    require(all(o > 0 for o in out), _NAME, f"pad {pad} leaves no output", shapes)
    return stride, dilate, pad, adj, out


def _deconv_inputs(attrs):
    if attrs is not None and attrs["no_bias"]:
        return ("data", "weight")
    return ("data", "weight", "bias")


def _deconvolution_shape(attrs, in_shapes):
    data = known(_NAME, in_shapes, 1)[0]
    kernel = tuple(attrs["kernel"])
    ndim = len(kernel)
    _check_layout(_NAME, attrs["layout"], ndim, in_shapes)
    require(len(data) == ndim + 2, _NAME, f"data must have {ndim + 2} dimensions for a "
            f"{ndim}-d kernel {kernel}", in_shapes)
    groups, filters = attrs["num_group"], attrs["num_filter"]
    require(filters > 0 and groups > 0 and data[1] % groups == 0 and filters % groups == 0,
            _NAME, f"num_group={groups} must divide the {data[1]} input channels and "
            f"num_filter={filters}", in_shapes)
    out = _geometry(attrs, data[2:], in_shapes)[4]
    expected = [None, (data[1], filters // groups) + kernel]
    if not attrs["no_bias"]:
        expected.append((filters,))
    shapes = deduce(_NAME, in_shapes, expected, _deconv_inputs(attrs))
    return shapes, [(data[0], filters) + out]


def _attrs_of(kernel, stride, dilate, pad, adj, target_shape, num_filter, num_group, no_bias,
              layout):
    return {"kernel": kernel, "stride": stride, "dilate": dilate, "pad": pad, "adj": adj,
            "target_shape": target_shape, "num_filter": num_filter, "num_group": num_group,
            "no_bias": no_bias, "layout": layout}


def _deconvolution(data, weight, bias=None, *, kernel, num_filter, stride=(), dilate=(),
                   pad=(), adj=(), target_shape=(), num_group=1, workspace=512, no_bias=True,
                   cudnn_tune=None, cudnn_off=False, layout=None):
    attrs = REGISTRY[_NAME].parse_attrs(_attrs_of(kernel, stride, dilate, pad, adj,
                                                  target_shape, num_filter, num_group,
                                                  bias is None, layout))
    kernel, num_filter, num_group = attrs["kernel"], attrs["num_filter"], attrs["num_group"]
    arrays = (data, weight, bias)
    check_arrays(_NAME, attrs, arrays)        # cheap next to the product: shapes only
    stride, dilate, pad, _, out = _geometry(attrs, data.shape[2:], [a.shape for a in arrays
                                                                     if a is not None])
    shape = (data.shape[0], num_filter) + out
    result = conv_data_grad(data, weight, shape, np.result_type(data, weight), tuple(kernel),
                            stride, dilate, pad, num_group)
    if bias is not None:
        result = result + bias.reshape((1, num_filter) + (1,) * len(kernel))
    return result


def _deconvolution_grad(attrs, inputs, outputs, out_grads):
    """The data's gradient is the convolution of the output's gradient with the weight; the
    weight's is that convolution's weight gradient, with the data as its output gradient."""
    data, weight = inputs[0], inputs[1]
    kernel = tuple(attrs["kernel"])
    stride, dilate, pad, _, _ = _geometry(attrs, data.shape[2:], [data.shape])
    g = out_grads[0]
    d_data = _convolution(g, weight, None, kernel=kernel, num_filter=data.shape[1],
                          stride=stride, dilate=dilate, pad=pad, num_group=attrs["num_group"])
    grads = [d_data.astype(data.dtype, copy=False),
             conv_weight_grad(g, weight, data, kernel, stride, dilate, pad, attrs["num_group"])]
    if len(inputs) > 2:
        grads.append(g.sum(axis=(0,) + tuple(range(2, 2 + len(kernel)))).astype(inputs[2].dtype))
    return grads


register(Op(_NAME, _deconvolution, _deconvolution_shape, inputs=_deconv_inputs,
            grad=_deconvolution_grad,
            attrs={"kernel": A.Shape(), "stride": A.Shape(()), "dilate": A.Shape(()),
                   "pad": A.Shape(()), "adj": A.Shape(()), "target_shape": A.Shape(()),
                   "num_filter": A.Int(), "num_group": A.Int(1), "workspace": A.Int(512),
                   "no_bias": A.Bool(True),
                   "cudnn_tune": A.OptStr(None, ("fastest", "limited_workspace", "off")),
                   "cudnn_off": A.Bool(False),
                   "layout": A.OptStr(None, ("NCDHW", "NCHW", "NCW", "NDHWC", "NHWC", "NWC"))}))
