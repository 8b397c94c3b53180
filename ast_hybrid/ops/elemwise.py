"""Element-wise operators: unary math, binary arithmetic and comparison, scalar forms."""
import numpy as np

from . import attrs as A
from .registry import Op, register
from .shapes import broadcasting, elementwise, known


def _same_shape(op_name):
    def rule(attrs, in_shapes):
        shape = known(op_name, in_shapes)[0]
        return [shape], [shape]
    return rule


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

for _name, _kernel in UNARY.items():
    register(Op(_name, _kernel, _same_shape(_name)))


def _activation(data, act_type):
    return ACTIVATIONS[act_type](data)


ACTIVATIONS = {"relu": _relu, "sigmoid": _sigmoid, "tanh": np.tanh,
               "softrelu": _softrelu, "softsign": _softsign}

register(Op("Activation", _activation, _same_shape("Activation"),
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
    register(Op(_forward, _scalar_kernel(_ufunc, False), _same_shape(_forward),
                attrs={"scalar": A.Float()}))
    if _reverse:
        register(Op(_reverse, _scalar_kernel(_ufunc, True), _same_shape(_reverse),
                    attrs={"scalar": A.Float()}))
