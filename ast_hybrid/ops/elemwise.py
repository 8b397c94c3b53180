"""Element-wise operators: unary math, binary arithmetic and comparison, scalars, add_n, clip."""
import numpy as np

from . import attrs as A
from .grad_utils import no_grad, unary, unbroadcast
from .registry import VARIADIC, Op, check_arrays, register, shape_error
from .shapes import broadcasting, elementwise, known, same_shape


def _relu(x, out=None):
    """out= (x itself, for a temporary nothing else reads) makes it in place."""
    return np.maximum(x, 0, dtype=x.dtype, out=out)


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

# dy/dx as a function of (x, y)
UNARY_DERIVATIVES = {
    "relu": lambda x, y: (x > 0).astype(x.dtype),
    "sigmoid": lambda x, y: y * (1 - y),
    "tanh": lambda x, y: 1 - np.square(y),
    "softsign": lambda x, y: 1 / np.square(1 + np.abs(x)),
    "softrelu": lambda x, y: _sigmoid(x),
    "exp": lambda x, y: y,
    "log": lambda x, y: 1 / x,
    "sqrt": lambda x, y: 0.5 / y,
    "rsqrt": lambda x, y: -0.5 * y / x,
    "square": lambda x, y: 2 * x,
    "abs": lambda x, y: np.sign(x),
    "negative": lambda x, y: -np.ones_like(x),
    "reciprocal": lambda x, y: -np.square(y),
    "sin": lambda x, y: np.cos(x),
    "cos": lambda x, y: -np.sin(x),
    "log1p": lambda x, y: 1 / (1 + x),
    "expm1": lambda x, y: y + 1,
}
_PIECEWISE_CONSTANT = {"sign", "floor", "ceil", "round"}

# unary operators that MXNet's NDArray does not have as methods
_NOT_FLUENT = {"softsign", "negative"}

for _name, _kernel in UNARY.items():
    register(Op(_name, _kernel, same_shape(_name), fluent=_name not in _NOT_FLUENT,
                grad=no_grad if _name in _PIECEWISE_CONSTANT
                else unary(UNARY_DERIVATIVES[_name])))


def _activation(data, act_type):
    return ACTIVATIONS[act_type](data)


ACTIVATIONS = {"relu": _relu, "sigmoid": _sigmoid, "tanh": np.tanh,
               "softrelu": _softrelu, "softsign": _softsign}

def _activation_grad(attrs, inputs, outputs, out_grads):
    return ACTIVATION_GRADS[attrs["act_type"]](inputs[0], outputs[0], out_grads[0])


def _bound_activation_grad(act_type):
    derivative = UNARY_DERIVATIVES[act_type]

    def grad(data, output, out_grad):
        return [out_grad * derivative(data, output)]
    grad.__name__ = f"{act_type}_grad"
    return grad


ACTIVATION_GRADS = {act_type: _bound_activation_grad(act_type) for act_type in ACTIVATIONS}

register(Op("Activation", _activation, same_shape("Activation"), grad=_activation_grad,
            specialize=lambda attrs: ACTIVATIONS[attrs["act_type"]],
            specialize_grad=lambda attrs: ACTIVATION_GRADS[attrs["act_type"]],
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


# (d out/d lhs, d out/d rhs) as functions of (lhs, rhs, out); None: not differentiable
BINARY_PARTIALS = {
    "add": (lambda a, b, y: 1, lambda a, b, y: 1),
    "sub": (lambda a, b, y: 1, lambda a, b, y: -1),
    "mul": (lambda a, b, y: b, lambda a, b, y: a),
    "div": (lambda a, b, y: 1 / b, lambda a, b, y: -a / np.square(b)),
    "mod": (lambda a, b, y: 1, lambda a, b, y: -np.floor(a / b)),
    "power": (lambda a, b, y: b * np.power(a, b - 1),
              lambda a, b, y: y * np.log(np.where(a > 0, a, 1))),
    "maximum": (lambda a, b, y: a >= b, lambda a, b, y: a < b),
    "minimum": (lambda a, b, y: a <= b, lambda a, b, y: a > b),
    "hypot": (lambda a, b, y: a / y, lambda a, b, y: b / y),
}


def _binary_grad(base):
    partials = BINARY_PARTIALS.get(base)
    if partials is None:
        return no_grad
    d_lhs, d_rhs = partials

    def grad(attrs, inputs, outputs, out_grads):
        lhs, rhs = inputs
        g = out_grads[0]
        return [unbroadcast(g * d_lhs(lhs, rhs, outputs[0]), lhs.shape),
                unbroadcast(g * d_rhs(lhs, rhs, outputs[0]), rhs.shape)]
    return grad


def _scalar_grad(base, reverse):
    """The data's gradient for `data <base> scalar` (or `scalar <base> data` if reverse)."""
    partials = BINARY_PARTIALS.get(base)
    if partials is None:
        return no_grad
    partial = partials[1] if reverse else partials[0]

    def grad(attrs, inputs, outputs, out_grads):
        data = inputs[0]
        scalar = np.asarray(attrs["scalar"], dtype=data.dtype)
        lhs, rhs = (scalar, data) if reverse else (data, scalar)
        return [out_grads[0] * partial(lhs, rhs, outputs[0])]
    return grad


def _scalar_kernel(ufunc, reverse):
    if reverse:
        def kernel(data, scalar):
            return ufunc(np.asarray(scalar, dtype=data.dtype), data)
    else:
        def kernel(data, scalar):
            return ufunc(data, np.asarray(scalar, dtype=data.dtype))
    return kernel


def _same_shape_kernel(op_name, ufunc):
    """`ufunc` on operands of one shape: numpy would broadcast others, which the rule refuses."""
    def kernel(lhs, rhs):
        if lhs.shape != rhs.shape:
            check_arrays(op_name, {}, (lhs, rhs))
        return ufunc(lhs, rhs)
    return kernel


for _base, _ufunc in BINARY.items():
    _name = "broadcast_" + _base
    register(Op(_name, _ufunc, broadcasting(_name), inputs=("lhs", "rhs"),
                grad=_binary_grad(_base)))
    if _base in _ELEMWISE_NAMES:
        _name = _ELEMWISE_NAMES[_base]
        register(Op(_name, _same_shape_kernel(_name, _ufunc), elementwise(_name),
                    inputs=("lhs", "rhs"), grad=_binary_grad(_base)))
    _forward, _reverse = SCALAR_NAMES[_base]
    register(Op(_forward, _scalar_kernel(_ufunc, False), same_shape(_forward),
                attrs={"scalar": A.Float()}, grad=_scalar_grad(_base, False)))
    if _reverse:
        register(Op(_reverse, _scalar_kernel(_ufunc, True), same_shape(_reverse),
                    attrs={"scalar": A.Float()}, grad=_scalar_grad(_base, True)))


def _add_n(*arrays, num_args):
    shape = arrays[0].shape
    if any(array.shape != shape for array in arrays):      # numpy would broadcast them
        check_arrays("add_n", {"num_args": num_args}, arrays)
    out = arrays[0] + arrays[1] if len(arrays) > 1 else arrays[0].copy()
    for array in arrays[2:]:
        out += array
    return out


def _add_n_grad(attrs, inputs, outputs, out_grads):
    return [out_grads[0]] * len(inputs)


register(Op("add_n", _add_n, elementwise("add_n"), inputs=VARIADIC, grad=_add_n_grad,
            aliases=("ElementWiseSum",), attrs={"num_args": A.Int()}))


def _check_clip_bounds(a_min, a_max, shapes):
    """The bounds clip takes, checked by its shape rule and by its kernel (which a compiled
    program may hand run-time values, unparsed): numbers with a_min <= a_max."""
    if a_min <= a_max:
        return
    if a_min != a_min or a_max != a_max:                 # NaN: no order, no meaning as a bound
        message = f"a_min={float(a_min)} and a_max={float(a_max)} must be numbers, not NaN"
    else:
        message = f"a_min={float(a_min)} is greater than a_max={float(a_max)}"
    raise shape_error("clip", message, shapes)


def _clip(data, *, a_min, a_max):
    _check_clip_bounds(a_min, a_max, (data,))
    return np.clip(data, np.asarray(a_min, dtype=data.dtype), np.asarray(a_max, dtype=data.dtype))


def _clip_shape(attrs, in_shapes):
    shape = known("clip", in_shapes)[0]
    _check_clip_bounds(attrs["a_min"], attrs["a_max"], in_shapes)
    return [shape], [shape]


def _clip_grad(attrs, inputs, outputs, out_grads):
    data = inputs[0]
    inside = (data >= attrs["a_min"]) & (data <= attrs["a_max"])
    return [out_grads[0] * inside]


register(Op("clip", _clip, _clip_shape, attrs={"a_min": A.Float(), "a_max": A.Float()},
            fluent=True, grad=_clip_grad))


def _cast(data, *, dtype):
    return data.astype(dtype, copy=False)


def _cast_grad(attrs, inputs, outputs, out_grads):
    return [out_grads[0].astype(inputs[0].dtype, copy=False)]


register(Op("cast", _cast, same_shape("cast"), aliases=("Cast",), attrs={"dtype": A.Dtype()},
            grad=_cast_grad))


def _copy(data):
    return data.copy()


def _block_grad(data):
    return data


def _identity_grad(attrs, inputs, outputs, out_grads):
    return [out_grads[0]]


register(Op("identity", _copy, same_shape("identity"), aliases=("_copy",), grad=_identity_grad))
register(Op("BlockGrad", _block_grad, same_shape("BlockGrad"), aliases=("stop_gradient",),
            grad=no_grad))


def _smooth_l1(data, *, scalar=1.0):
    sigma2 = np.asarray(scalar * scalar, dtype=data.dtype)
    magnitude = np.abs(data)
    return np.where(magnitude < 1 / sigma2, 0.5 * sigma2 * np.square(data),
                    magnitude - 0.5 / sigma2)


def _smooth_l1_grad(attrs, inputs, outputs, out_grads):
    data = inputs[0]
    sigma2 = np.asarray(attrs["scalar"] ** 2, dtype=data.dtype)
    slope = np.where(np.abs(data) < 1 / sigma2, sigma2 * data, np.sign(data))
    return [out_grads[0] * slope]


register(Op("smooth_l1", _smooth_l1, same_shape("smooth_l1"), attrs={"scalar": A.Float(1.0)},
            grad=_smooth_l1_grad))
