"""Element-wise operators: unary math, binary arithmetic and comparison, scalar forms, add_n, clip, cast."""
import numpy as np

from . import attrs as A
from .registry import VARIADIC, Op, register
from .shapes import broadcasting, elementwise, known, require, same_shape


def _relu(x):
    return np.maximum(x, 0, dtype=x.dtype)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softrelu(x):
    return np.logaddexp(0, x).astype(x.dtype, copy=False)


def _softsign(x):
    return x / (1 + np.abs(x))


def _rsqrt(x):
    return 1.0 / np.sqrt(x)


UNARY = {
    "relu": _relu,
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "softsign": _softsign,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "rsqrt": _rsqrt,
    "square": np.square,
    "abs": np.abs,
    "negative": np.negative,
    "sign": np.sign,
    "floor": np.floor,
    "ceil": np.ceil,
    "round": np.round,
    "reciprocal": np.reciprocal,
    "sin": np.sin,
    "cos": np.cos,
    "log1p": np.log1p,
    "expm1": np.expm1,
}

# unary operators that MXNet's NDArray does not have as methods
_NOT_FLUENT = {"softsign", "negative"}

for _name, _kernel in UNARY.items():
    register(Op(_name, _kernel, same_shape(_name), fluent=_name not in _NOT_FLUENT))


def _activation(data, act_type):
    return ACTIVATIONS[act_type](data)


ACTIVATIONS = {"relu": _relu, "sigmoid": _sigmoid, "tanh": np.tanh,
               "softrelu": _softrelu, "softsign": _softsign}

register(Op("Activation", _activation, same_shape("Activation"),
            attrs={"act_type": A.Str(choices=tuple(ACTIVATIONS))}))


def _compare(ufunc):
    def kernel(a, b):
        result = ufunc(a, b)
        dtype = np.result_type(a, b) if np.ndim(a) or np.ndim(b) else np.float32
        return result.astype(dtype, copy=False)
    return kernel


BINARY = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.true_divide,
    "mod": np.mod,
    "power": np.power,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "hypot": np.hypot,
    "equal": _compare(np.equal),
    "not_equal": _compare(np.not_equal),
    "greater": _compare(np.greater),
    "greater_equal": _compare(np.greater_equal),
    "lesser": _compare(np.less),
    "lesser_equal": _compare(np.less_equal),
}

_ELEMWISE_NAMES = {"add": "elemwise_add", "sub": "elemwise_sub", "mul": "elemwise_mul",
                   "div": "elemwise_div"}

SCALAR_NAMES = {"add": ("_plus_scalar", None), "sub": ("_minus_scalar", "_rminus_scalar"),
                 "mul": ("_mul_scalar", None), "div": ("_div_scalar", "_rdiv_scalar"),
                 "mod": ("_mod_scalar", "_rmod_scalar"),
                 "power": ("_power_scalar", "_rpower_scalar"),
                 "maximum": ("_maximum_scalar", None), "minimum": ("_minimum_scalar", None),
                 "hypot": ("_hypot_scalar", None),
                 "equal": ("_equal_scalar", None), "not_equal": ("_not_equal_scalar", None),
                 "greater": ("_greater_scalar", None),
                 "greater_equal": ("_greater_equal_scalar", None),
                 "lesser": ("_lesser_scalar", None), "lesser_equal": ("_lesser_equal_scalar", None)}


def _scalar_kernel(ufunc, reverse):
    if reverse:
        def kernel(data, scalar):
            return ufunc(np.asarray(scalar, dtype=data.dtype), data)
    else:
        def kernel(data, scalar):
            return ufunc(data, np.asarray(scalar, dtype=data.dtype))
    return kernel


for _base, _ufunc in BINARY.items():
    _name = "broadcast_" + _base
    register(Op(_name, _ufunc, broadcasting(_name), inputs=("lhs", "rhs")))
    if _base in _ELEMWISE_NAMES:
        _name = _ELEMWISE_NAMES[_base]
        register(Op(_name, _ufunc, elementwise(_name), inputs=("lhs", "rhs")))
    _forward, _reverse = SCALAR_NAMES[_base]
    register(Op(_forward, _scalar_kernel(_ufunc, False), same_shape(_forward),
                attrs={"scalar": A.Float()}))
    if _reverse:
        register(Op(_reverse, _scalar_kernel(_ufunc, True), same_shape(_reverse),
                    attrs={"scalar": A.Float()}))


def _add_n(*arrays, num_args):
    out = arrays[0] + arrays[1] if len(arrays) > 1 else arrays[0].copy()
    for array in arrays[2:]:
        out += array
    return out


register(Op("add_n", _add_n, elementwise("add_n"), inputs=VARIADIC,
            aliases=("ElementWiseSum",), attrs={"num_args": A.Int()}))


def _clip(data, *, a_min, a_max):
    return np.clip(data, np.asarray(a_min, dtype=data.dtype), np.asarray(a_max, dtype=data.dtype))


def _clip_shape(attrs, in_shapes):
    shape = known("clip", in_shapes)[0]
    require(attrs["a_min"] <= attrs["a_max"], "clip",
            f"a_min={attrs['a_min']} is greater than a_max={attrs['a_max']}", in_shapes)
    return [shape], [shape]


register(Op("clip", _clip, _clip_shape, attrs={"a_min": A.Float(), "a_max": A.Float()},
            fluent=True))


def _cast(data, *, dtype):
    return data.astype(dtype, copy=False)


register(Op("cast", _cast, same_shape("cast"), aliases=("Cast",), attrs={"dtype": A.Dtype()}))


def _copy(data):
    return data.copy()


def _block_grad(data):
    return data


register(Op("identity", _copy, same_shape("identity"), aliases=("_copy",)))
register(Op("BlockGrad", _block_grad, same_shape("BlockGrad"), aliases=("stop_gradient",)))


def _smooth_l1(data, *, scalar=1.0):
    sigma2 = np.asarray(scalar * scalar, dtype=data.dtype)
    magnitude = np.abs(data)
    return np.where(magnitude < 1 / sigma2, 0.5 * sigma2 * np.square(data),
                    magnitude - 0.5 / sigma2)


register(Op("smooth_l1", _smooth_l1, same_shape("smooth_l1"), attrs={"scalar": A.Float(1.0)}))
