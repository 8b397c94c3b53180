"""Array creation: zeros/ones/full/arange with no inputs, *_like from an input, random samplers."""
import numpy as np

from . import attrs as A
from .grad_utils import no_grad
from .random_state import generator
from .registry import Op, register, shape_error
from .shapes import require, same_shape


def _no_input_shape(op_name, shape_of):
    def rule(attrs, in_shapes):
        out = shape_of(attrs)
        require(all(n >= 0 for n in out), op_name, f"shape {out} has a negative size", in_shapes)
        return [], [out]
    return rule


def _shape_attr(attrs):
    return tuple(attrs["shape"])


def _zeros(*, shape=(), ctx="", dtype="float32"):
    return np.zeros(shape, dtype=dtype)


def _ones(*, shape=(), ctx="", dtype="float32"):
    return np.ones(shape, dtype=dtype)


def _full(*, shape=(), value, ctx="", dtype="float32"):
    return np.full(shape, value, dtype=dtype)


_CREATION_ATTRS = {"shape": A.Shape(()), "ctx": A.Str(""), "dtype": A.Dtype("float32")}

for _name, _kernel, _extra in (("_zeros", _zeros, {}), ("_ones", _ones, {}),
                               ("_full", _full, {"value": A.Float()})):
    register(Op(_name, _kernel, _no_input_shape(_name, _shape_attr), inputs=(),
                attrs={**_CREATION_ATTRS, **_extra}))


def _arange_bounds(start, stop, step):
    return (0.0, start) if stop is None else (start, stop)


def _arange_length(start, stop, step, repeat):
    start, stop = _arange_bounds(start, stop, step)
    return max(0, int(np.ceil((stop - start) / step))) * repeat


def _arange(*, start, stop=None, step=1.0, repeat=1, infer_range=False, ctx="",
            dtype="float32"):
    _check_arange(step, repeat)
    first, last = _arange_bounds(start, stop, step)
    count = _arange_length(start, stop, step, 1)
    # computed in the output dtype, as MXNet does (float32 arange(0, 1, 0.3)[3] is 0.90000004)
    values = np.arange(count).astype(dtype) * np.asarray(step, dtype=dtype) \
        + np.asarray(first, dtype=dtype)
    return np.repeat(values, repeat) if repeat != 1 else values


def _check_arange(step, repeat):
    """_arange's step and repeat, checked by rule and kernel (numpy repeats 0 times silently)."""
    if step == 0:
        raise shape_error("_arange", "step cannot be 0", [])
    if repeat <= 0:
        raise shape_error("_arange", "repeat must be positive", [])


def _arange_shape(attrs, in_shapes):
    _check_arange(attrs["step"], attrs["repeat"])
    return [], [(_arange_length(attrs["start"], attrs["stop"], attrs["step"], attrs["repeat"]),)]


register(Op("_arange", _arange, _arange_shape, inputs=(),
            attrs={"start": A.Float(), "stop": A.OptFloat(), "step": A.Float(1.0),
                   "repeat": A.Int(1), "infer_range": A.Bool(False), "ctx": A.Str(""),
                   "dtype": A.Dtype("float32")}))

_RANDOM_DTYPES = ("None", "float16", "float32", "float64")


def _random_dtype(dtype):
    return np.float32 if dtype == "None" else np.dtype(dtype)


def _random_normal(*, loc=0.0, scale=1.0, shape=(), ctx="", dtype="None"):
    dtype = _random_dtype(dtype)
    if dtype in (np.float32, np.float64):
        out = generator().standard_normal(shape, dtype=dtype)
    else:
        out = generator().standard_normal(shape).astype(dtype)
    if scale != 1.0:
        out *= np.asarray(scale, dtype=dtype)
    if loc != 0.0:
        out += np.asarray(loc, dtype=dtype)
    return out


def _random_uniform(*, low=0.0, high=1.0, shape=(), ctx="", dtype="None"):
    dtype = _random_dtype(dtype)
    if dtype in (np.float32, np.float64):
        out = generator().random(shape, dtype=dtype)
    else:
        out = generator().random(shape).astype(dtype)
    out *= np.asarray(high - low, dtype=dtype)
    out += np.asarray(low, dtype=dtype)
    return out


register(Op("_random_normal", _random_normal, _no_input_shape("_random_normal", _shape_attr),
            inputs=(), aliases=("random_normal",),
            attrs={"loc": A.Float(0.0), "scale": A.Float(1.0), "shape": A.Shape(()),
                   "ctx": A.Str(""), "dtype": A.Str("None", _RANDOM_DTYPES)}))
register(Op("_random_uniform", _random_uniform,
            _no_input_shape("_random_uniform", _shape_attr), inputs=(),
            aliases=("random_uniform",),
            attrs={"low": A.Float(0.0), "high": A.Float(1.0), "shape": A.Shape(()),
                   "ctx": A.Str(""), "dtype": A.Str("None", _RANDOM_DTYPES)}))


def _zeros_like(data):
    return np.zeros_like(data)


def _ones_like(data):
    return np.ones_like(data)


register(Op("zeros_like", _zeros_like, same_shape("zeros_like"), fluent=True, grad=no_grad))
register(Op("ones_like", _ones_like, same_shape("ones_like"), fluent=True, grad=no_grad))


def _linspace(*, start, stop, num, endpoint=True, ctx="", dtype="float32"):
    # computed in float64 and cast, so float32 values are the nearest to the exact ones
    return np.linspace(start, stop, num, endpoint=endpoint).astype(dtype)


def _linspace_shape(attrs, in_shapes):
    require(attrs["num"] >= 0, "_linspace", "num must not be negative", in_shapes)
    return [], [(attrs["num"],)]


register(Op("_linspace", _linspace, _linspace_shape, inputs=(),
            attrs={"start": A.Float(), "stop": A.Float(), "num": A.Int(),
                   "endpoint": A.Bool(True), "ctx": A.Str(""), "dtype": A.Dtype("float32")}))


def _eye(*, N, M=0, k=0, ctx="", dtype="float32"):
    return np.eye(N, M or N, k=k, dtype=dtype)


def _eye_shape(attrs, in_shapes):
    require(attrs["N"] >= 0 and attrs["M"] >= 0, "_eye", "N and M must not be negative",
            in_shapes)
    return [], [(attrs["N"], attrs["M"] or attrs["N"])]


register(Op("_eye", _eye, _eye_shape, inputs=(),
            attrs={"N": A.Int(), "M": A.Int(0), "k": A.Int(0), "ctx": A.Str(""),
                   "dtype": A.Dtype("float32")}))
