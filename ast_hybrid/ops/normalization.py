"""Normalization layers: BatchNorm (which updates its moving statistics in place) and LayerNorm."""
import numpy as np

from . import attrs as A
from .registry import REGISTRY, Op, check_arrays, register
from .shapes import deduce, known, normalize_axis


def _channel_shape(ndim, axis, size):
    shape = [1] * ndim
    shape[axis] = size
    return shape


def _batch_norm(data, gamma, beta, moving_mean, moving_var, *, eps=1e-3, momentum=0.9,
                fix_gamma=True, use_global_stats=False, output_mean_var=False, axis=1,
                cudnn_off=False, min_calib_range=None, max_calib_range=None, training=False):
    """Normalize over every axis but `axis`.

    In training (unless use_global_stats) the batch statistics are used and moving_mean /
    moving_var are updated in place: moving = moving * momentum + batch * (1 - momentum), with
    the biased (divide by N) batch variance. With output_mean_var it also returns the mean and
    the inverse standard deviation used, as MXNet does.
    """
    axis = _checked_axis(data, gamma, beta, moving_mean, moving_var, axis, output_mean_var)
    channels = data.shape[axis]
    if training and not use_global_stats:
        reduce_axes = tuple(i for i in range(data.ndim) if i != axis)
        mean = np.mean(data, axis=reduce_axes)
        var = np.mean(np.square(data - mean.reshape(_channel_shape(data.ndim, axis, channels))),
                      axis=reduce_axes)
        moving_mean *= momentum
        moving_mean += (1 - momentum) * mean.astype(moving_mean.dtype, copy=False)
        moving_var *= momentum
        moving_var += (1 - momentum) * var.astype(moving_var.dtype, copy=False)
    else:
        mean, var = moving_mean, moving_var
    inv_std, scale, shift = _affine(data, gamma, beta, mean, var, eps, fix_gamma, axis)
    out = data * scale
    out += shift            # the sum's dtype is the product's: both are in the data's dtype
    if output_mean_var:
        return out, np.array(mean), inv_std
    return out


def _checked_axis(data, gamma, beta, moving_mean, moving_var, axis, output_mean_var):
    """BatchNorm's axis as a non-negative index, after checking the inputs' shapes."""
    inputs = (data, gamma, beta, moving_mean, moving_var)
    axis = normalize_axis("BatchNorm", axis, data.ndim, inputs)
    channels = data.shape[axis]
    if not gamma.shape == beta.shape == moving_mean.shape == moving_var.shape == (channels,):
        # numpy could broadcast them, or fail halfway through updating the moving statistics
        check_arrays("BatchNorm", {"axis": axis, "output_mean_var": output_mean_var}, inputs)
    return axis


def _affine(data, gamma, beta, mean, var, eps, fix_gamma, axis):
    """(1 / sqrt(var + eps), and the per-channel scale and shift of the normalization in the
    data's dtype, shaped to broadcast along `axis`): BatchNorm is data * scale + shift."""
    inv_std = 1.0 / np.sqrt(var + np.asarray(eps, dtype=var.dtype))
    scale = inv_std if fix_gamma else gamma * inv_std
    shift = beta - mean * scale
    shape = _channel_shape(data.ndim, axis, data.shape[axis])
    return (inv_std, scale.astype(data.dtype, copy=False).reshape(shape),
            shift.astype(data.dtype, copy=False).reshape(shape))


def batch_norm_in_place(data, gamma, beta, moving_mean, moving_var, *, out, eps=1e-3,
                        momentum=0.9, fix_gamma=True, use_global_stats=False,
                        output_mean_var=False, axis=1, cudnn_off=False, min_calib_range=None,
                        max_calib_range=None, training=False):
    """BatchNorm's result written into `out`, which is `data` (a temporary nothing else reads),
    where it is one float array normalized with the moving statistics: the same scale and
    shift, multiplied and added in the same order and dtype, without the two new arrays.
    Anything else is computed by the kernel."""
    if (training and not use_global_stats) or output_mean_var or out is not data \
            or data.__class__ is not np.ndarray or data.dtype.kind != "f" \
            or not data.flags.writeable:
        return REGISTRY["BatchNorm"].kernel(
            data, gamma, beta, moving_mean, moving_var, eps=eps, momentum=momentum,
            fix_gamma=fix_gamma, use_global_stats=use_global_stats,
            output_mean_var=output_mean_var, axis=axis, cudnn_off=cudnn_off,
            min_calib_range=min_calib_range, max_calib_range=max_calib_range, training=training)
    axis = _checked_axis(data, gamma, beta, moving_mean, moving_var, axis, output_mean_var)
    _, scale, shift = _affine(data, gamma, beta, moving_mean, moving_var, eps, fix_gamma, axis)
    np.multiply(data, scale, out=data)
    return np.add(data, shift, out=data)


def _batch_norm_shape(attrs, in_shapes):
    data = known("BatchNorm", in_shapes, 1)[0]
    axis = normalize_axis("BatchNorm", attrs["axis"], len(data), in_shapes)
    channel = (data[axis],)
    shapes = deduce("BatchNorm", in_shapes, [None] + [channel] * 4, _BATCH_NORM_INPUTS)
    outs = [data]
    if attrs["output_mean_var"]:
        outs += [channel, channel]
    return shapes, outs


_BATCH_NORM_INPUTS = ("data", "gamma", "beta", "moving_mean", "moving_var")


def _batch_norm_grad(attrs, inputs, outputs, out_grads):
    """In training, through the batch statistics (recomputed from the data); otherwise
    through the moving statistics as constants. gamma's gradient is zero with fix_gamma."""
    data, gamma, beta, moving_mean, moving_var = inputs
    axis = attrs["axis"] % data.ndim
    shape = _channel_shape(data.ndim, axis, data.shape[axis])
    reduce_axes = tuple(i for i in range(data.ndim) if i != axis)
    g = out_grads[0]
    batch_stats = attrs.get("training", False) and not attrs["use_global_stats"]
    if batch_stats:
        mean = np.mean(data, axis=reduce_axes)
        var = np.mean(np.square(data - mean.reshape(shape)), axis=reduce_axes)
    else:
        mean, var = moving_mean, moving_var
    inv_std = (1.0 / np.sqrt(var + np.asarray(attrs["eps"], dtype=var.dtype))).reshape(shape)
    normalized = (data - mean.reshape(shape)) * inv_std
    scale = inv_std if attrs["fix_gamma"] else gamma.reshape(shape) * inv_std
    d_beta = np.sum(g, axis=reduce_axes)
    d_gamma = np.sum(g * normalized, axis=reduce_axes)
    if batch_stats:
        count = data.size // data.shape[axis]
        d_data = scale * (g - (d_beta.reshape(shape) + normalized * d_gamma.reshape(shape))
                          / count)
    else:
        d_data = g * scale
    if attrs["fix_gamma"]:
        d_gamma = np.zeros_like(gamma)
    return [d_data.astype(data.dtype, copy=False), d_gamma.astype(gamma.dtype, copy=False),
            d_beta.astype(beta.dtype, copy=False), None, None]


register(Op("BatchNorm", _batch_norm, _batch_norm_shape, inputs=_BATCH_NORM_INPUTS,
            aux=("moving_mean", "moving_var"), mode_dependent=True, grad=_batch_norm_grad,
            num_outputs=lambda attrs: 3 if attrs["output_mean_var"] else 1,
            attrs={"eps": A.Float(1e-3), "momentum": A.Float(0.9), "fix_gamma": A.Bool(True),
                   "use_global_stats": A.Bool(False), "output_mean_var": A.Bool(False),
                   "axis": A.Int(1), "cudnn_off": A.Bool(False),
                   "min_calib_range": A.OptFloat(), "max_calib_range": A.OptFloat()}))


def _layer_norm(data, gamma, beta, *, axis=-1, eps=1e-5, output_mean_var=False):
    """Normalize along `axis`; with output_mean_var also the mean and standard deviation."""
    axis = normalize_axis("LayerNorm", axis, data.ndim, (data, gamma, beta))
    if not gamma.shape == beta.shape == data.shape[axis:axis + 1]:     # numpy would broadcast
        check_arrays("LayerNorm", {"axis": axis, "output_mean_var": output_mean_var},
                     (data, gamma, beta))
    mean = np.mean(data, axis=axis, keepdims=True)
    centered = data - mean
    std = np.sqrt(np.mean(np.square(centered), axis=axis, keepdims=True)
                  + np.asarray(eps, dtype=data.dtype))
    shape = _channel_shape(data.ndim, axis, data.shape[axis])
    out = centered / std * gamma.reshape(shape) + beta.reshape(shape)
    if output_mean_var:
        return out, mean, std
    return out


def _layer_norm_shape(attrs, in_shapes):
    data = known("LayerNorm", in_shapes, 1)[0]
    axis = normalize_axis("LayerNorm", attrs["axis"], len(data), in_shapes)
    channel = (data[axis],)
    shapes = deduce("LayerNorm", in_shapes, [None, channel, channel], ("data", "gamma", "beta"))
    outs = [data]
    if attrs["output_mean_var"]:
        reduced = data[:axis] + (1,) + data[axis + 1:]
        outs += [reduced, reduced]
    return shapes, outs


def _layer_norm_grad(attrs, inputs, outputs, out_grads):
    data, gamma, beta = inputs
    axis = attrs["axis"] % data.ndim
    shape = _channel_shape(data.ndim, axis, data.shape[axis])
    others = tuple(i for i in range(data.ndim) if i != axis)
    mean = np.mean(data, axis=axis, keepdims=True)
    centered = data - mean
    std = np.sqrt(np.mean(np.square(centered), axis=axis, keepdims=True)
                  + np.asarray(attrs["eps"], dtype=data.dtype))
    normalized = centered / std
    g = out_grads[0]
    d_gamma = np.sum(g * normalized, axis=others)
    d_beta = np.sum(g, axis=others)
    d_norm = g * gamma.reshape(shape)
    d_data = (d_norm - np.mean(d_norm, axis=axis, keepdims=True)
              - normalized * np.mean(d_norm * normalized, axis=axis, keepdims=True)) / std
    return [d_data, d_gamma.reshape(gamma.shape), d_beta.reshape(beta.shape)]


register(Op("LayerNorm", _layer_norm, _layer_norm_shape, inputs=("data", "gamma", "beta"),
            grad=_layer_norm_grad,
            num_outputs=lambda attrs: 3 if attrs["output_mean_var"] else 1,
            attrs={"axis": A.Int(-1), "eps": A.Float(1e-5), "output_mean_var": A.Bool(False)}))
