"""Normalization over groups of channels, per sample: InstanceNorm (one group per channel,
gamma and beta per channel) and GroupNorm (gamma and beta per group, as MXNet 1.x's)."""
import numpy as np

from . import attrs as A
from .registry import REGISTRY, Op, check_arrays, register
from .shapes import deduce, known, require

_INPUTS = ("data", "gamma", "beta")


def _grouped(data, groups):
    """data (N, C, *spatial) as (N, groups, C / groups * prod(spatial))."""
    return data.reshape(data.shape[0], groups, -1)


def _normalize(data, groups, eps):
    x = _grouped(data, groups)
    mean = np.mean(x, axis=2, keepdims=True)
    centered = x - mean
    std = np.sqrt(np.mean(np.square(centered), axis=2, keepdims=True)
                  + np.asarray(eps, dtype=data.dtype))
    return centered / std, std


def _normalize_groups(name, data, gamma, beta, given):
    """The kernels' shared body: attributes read as imperative mode reads them (a compiled
    program may pass run-time values), the shape rule applied, then the normalization."""
    attrs = REGISTRY[name].parse_attrs(given)
    check_arrays(name, attrs, (data, gamma, beta))
    groups = data.shape[1] if name == "InstanceNorm" else attrs["num_groups"]
    normalized, std = _normalize(data, groups, attrs["eps"])
    out = normalized * gamma.reshape(1, groups, 1) + beta.reshape(1, groups, 1)
    out = out.reshape(data.shape).astype(data.dtype, copy=False)
    if attrs.get("output_mean_var"):
        # MXNet's: each group's mean and standard deviation (eps included), (N, num_groups)
        mean = np.mean(_grouped(data, groups), axis=2)
        return out, mean.astype(data.dtype, copy=False), std[:, :, 0].astype(data.dtype)
    return out


def _instance_norm(data, gamma, beta, *, eps=1e-3):
    return _normalize_groups("InstanceNorm", data, gamma, beta, {"eps": eps})


def _group_norm(data, gamma, beta, *, num_groups=1, eps=1e-5, output_mean_var=False):
    return _normalize_groups("GroupNorm", data, gamma, beta, {
        "num_groups": num_groups, "eps": eps, "output_mean_var": output_mean_var})


def _grad(groups_of):
    def grad(attrs, inputs, outputs, out_grads):
        data, gamma, beta = inputs
        groups = groups_of(attrs, data.shape)
        normalized, std = _normalize(data, groups, attrs["eps"])
        g = _grouped(out_grads[0], groups)
        d_gamma = np.sum(g * normalized, axis=(0, 2))
        d_beta = np.sum(g, axis=(0, 2))
        d_norm = g * gamma.reshape(1, groups, 1)
        d_data = (d_norm - np.mean(d_norm, axis=2, keepdims=True)
                  - normalized * np.mean(d_norm * normalized, axis=2, keepdims=True)) / std
        if len(out_grads) == 3:       # through the mean and standard deviation outputs
            size = normalized.shape[2]
            for g_stat, along in zip(out_grads[1:], (1.0, normalized)):
                if g_stat is not None:
                    d_data = d_data + g_stat.reshape(g_stat.shape + (1,)) * along / size
        return [d_data.reshape(data.shape).astype(data.dtype, copy=False),
                d_gamma.astype(gamma.dtype, copy=False), d_beta.astype(beta.dtype, copy=False)]
    return grad


def _shape(name, groups_of):
    def shape(attrs, in_shapes):
        data = known(name, in_shapes, 1)[0]
        require(len(data) >= 3, name, "data must have at least 3 dimensions (batch, channel, "
                "spatial...)", in_shapes)
        groups = groups_of(attrs, data)
        require(groups > 0 and data[1] % groups == 0, name, f"num_groups={groups} must divide "
                f"the {data[1]} channels", in_shapes)
        outs = [data]
        if attrs.get("output_mean_var"):
            outs += [(data[0], groups), (data[0], groups)]
        return deduce(name, in_shapes, [None, (groups,), (groups,)], _INPUTS), outs
    return shape


def _channels(attrs, shape):
    return shape[1]


def _num_groups(attrs, shape):
    return attrs["num_groups"]


register(Op("InstanceNorm", _instance_norm,
            _shape("InstanceNorm", _channels), inputs=_INPUTS, grad=_grad(_channels),
            attrs={"eps": A.Float(1e-3)}))

register(Op("GroupNorm", _group_norm, _shape("GroupNorm", _num_groups),
            inputs=_INPUTS, grad=_grad(_num_groups),
            num_outputs=lambda attrs: 3 if attrs["output_mean_var"] else 1,
            attrs={"num_groups": A.Int(1), "eps": A.Float(1e-5),
                   "output_mean_var": A.Bool(False)}))
