"""Converters of the tensor operators: arithmetic, reductions, reshaping, slicing, indexing."""
import numpy as np

from .. import ops
from .convert_nn import _onnx_type
from .converters import converts

_INT64_MAX, _INT64_MIN = np.iinfo(np.int64).max, np.iinfo(np.int64).min

_UNARY = {"exp": "Exp", "log": "Log", "sqrt": "Sqrt", "abs": "Abs", "negative": "Neg",
          "sign": "Sign", "floor": "Floor", "ceil": "Ceil", "reciprocal": "Reciprocal",
          "sin": "Sin", "cos": "Cos", "erf": "Erf", "identity": "Identity",
          "BlockGrad": "Identity",
          # numpy's round and ONNX's both round halves to even
          "round": "Round"}
_BINARY = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "power": "Pow",
           "maximum": "Max", "minimum": "Min"}
# comparisons give 1.0 and 0.0 in the data's type, as MXNet's do
_COMPARISONS = {"equal": ("Equal", False), "not_equal": ("Equal", True),
                "greater": ("Greater", False), "greater_equal": ("GreaterOrEqual", False),
                "lesser": ("Less", False), "lesser_equal": ("LessOrEqual", False)}
_REDUCTIONS = {"sum": "ReduceSum", "mean": "ReduceMean", "max": "ReduceMax",
               "min": "ReduceMin", "prod": "ReduceProd"}
_AXES_AS_INPUT = {"ReduceSum"}      # opset 13-17: the others take axes as an attribute


@converts(*_UNARY)
def unary(g, node, inputs):
    return [g.add(_UNARY[node.op.name], inputs)]


@converts("square")
def square(g, node, inputs):
    return [g.add("Mul", [inputs[0], inputs[0]])]


@converts("rsqrt")
def rsqrt(g, node, inputs):
    return [g.add("Reciprocal", [g.add("Sqrt", inputs)])]


def _binary(g, family, lhs, rhs):
    if family == "hypot":
        squares = g.add("Add", [g.add("Mul", [lhs, lhs]), g.add("Mul", [rhs, rhs])])
        return g.add("Sqrt", [squares])
    if family in _COMPARISONS:
        onnx_op, negate = _COMPARISONS[family]
        result = g.add(onnx_op, [lhs, rhs])
        if negate:
            result = g.add("Not", [result])
        return g.add("Cast", [result], to=_onnx_type(g.dtype))
    if family not in _BINARY:
        g.refuse(f"ONNX has no operator computing numpy's {family}")
    return g.add(_BINARY[family], [lhs, rhs])


def _family(name):
    for prefix in ("broadcast_", "elemwise_"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return {"plus": "add", "minus": "sub"}.get(name, name)


_ARRAY_BINARY = [f"broadcast_{f}" for f in list(_BINARY) + list(_COMPARISONS) + ["hypot", "mod"]]
_ARRAY_BINARY += [f"elemwise_{f}" for f in ("add", "sub", "mul", "div")]


@converts(*_ARRAY_BINARY)
def binary(g, node, inputs):
    return [_binary(g, _family(node.op.name), *inputs)]


_SCALAR = {"_plus_scalar": ("add", False), "_minus_scalar": ("sub", False),
           "_rminus_scalar": ("sub", True), "_mul_scalar": ("mul", False),
           "_div_scalar": ("div", False), "_rdiv_scalar": ("div", True),
           "_power_scalar": ("power", False), "_rpower_scalar": ("power", True),
           "_maximum_scalar": ("maximum", False), "_minimum_scalar": ("minimum", False),
           "_hypot_scalar": ("hypot", False), "_mod_scalar": ("mod", False),
           "_rmod_scalar": ("mod", True)}
_SCALAR.update({f"_{f}_scalar": (f, False) for f in _COMPARISONS})


@converts(*_SCALAR)
def scalar(g, node, inputs):
    family, reflected = _SCALAR[node.op.name]
    # the kernel computes with the scalar in the data's type
    value = g.const(node.attrs["scalar"], hint="scalar")
    lhs, rhs = (value, inputs[0]) if reflected else (inputs[0], value)
    return [_binary(g, family, lhs, rhs)]


@converts("_contrib_div_sqrt_dim")
def div_sqrt_dim(g, node, inputs):
    size = g.static_dims(*node.inputs[0])[-1]
    if size is None:
        g.refuse("its last axis is dynamic")
    # the kernel's divisor: the square root taken in the data's type
    divisor = np.sqrt(np.asarray(size, dtype=g.dtype))
    return [g.add("Div", [inputs[0], g.const(divisor, hint="sqrt_dim")])]


@converts("smooth_l1")
def smooth_l1(g, node, inputs):
    sigma2 = np.asarray(node.attrs["scalar"] ** 2, dtype=g.dtype)
    magnitude = g.add("Abs", inputs)
    small = g.add("Less", [magnitude, g.const(1 / sigma2, hint="bound")])
    square = g.add("Mul", [g.add("Mul", [inputs[0], inputs[0]]),
                           g.const(0.5 * sigma2, hint="half_sigma2")])
    linear = g.add("Sub", [magnitude, g.const(0.5 / sigma2, hint="half_inverse")])
    return [g.add("Where", [small, square, linear])]


@converts("add_n")
def add_n(g, node, inputs):
    return [g.add("Sum", inputs)]


@converts("clip")
def clip(g, node, inputs):
    a = node.attrs
    return [g.add("Clip", [inputs[0], g.const(a["a_min"], hint="min"),
                           g.const(a["a_max"], hint="max")])]


@converts("cast")
def cast(g, node, inputs):
    return [g.add("Cast", inputs, to=_onnx_type(node.attrs["dtype"]))]


def _reduced_axes(g, node, axis, exclude=False):
    """The axes a reduction reduces: all for None or () (none with `exclude`), as MXNet's."""
    rank = g.rank(*node.inputs[0])
    if not axis:
        return [] if exclude else list(range(rank))
    axes = sorted({a % rank for a in axis})
    if exclude:
        axes = [a for a in range(rank) if a not in axes]
    return axes


def _reduced(g, node, result, axes, keepdims):
    """MXNet's full reductions give shape (1,), not ONNX's scalar."""
    if not keepdims and len(axes) == g.rank(*node.inputs[0]):
        return g.add("Reshape", [result, g.ints([1], "shape")])
    return result


@converts(*_REDUCTIONS)
def reduction(g, node, inputs):
    a = node.attrs
    onnx_op = _REDUCTIONS[node.op.name]
    axes = _reduced_axes(g, node, a["axis"], a["exclude"])
    if not axes:
        return [g.add("Identity", inputs)]
    keepdims = int(a["keepdims"])
    if onnx_op in _AXES_AS_INPUT:
        result = g.add(onnx_op, [inputs[0], g.ints(axes)], keepdims=keepdims)
    else:
        result = g.add(onnx_op, inputs, axes=axes, keepdims=keepdims)
    return [_reduced(g, node, result, axes, keepdims)]


@converts("norm")
def norm(g, node, inputs):
    a = node.attrs
    if a["ord"] not in (1, 2) or a["out_dtype"] is not None:
        g.refuse("only ord 1 and 2 without out_dtype are supported")
    axes, keepdims = _reduced_axes(g, node, a["axis"]), int(a["keepdims"])
    result = g.add("ReduceL2" if a["ord"] == 2 else "ReduceL1", inputs, axes=axes,
                   keepdims=keepdims)
    return [_reduced(g, node, result, axes, keepdims)]


@converts("argmax", "argmin")
def arg_reduction(g, node, inputs):
    a = node.attrs
    data = inputs[0]
    axis = a["axis"]
    keepdims = int(a["keepdims"])
    if axis is None:        # the index into the flattened data, of shape (1,)
        if a["keepdims"]:
            g.refuse("axis=None with keepdims=True is not supported")
        data, axis, keepdims = g.add("Reshape", [data, g.ints([-1])]), 0, 1
    onnx_op = "ArgMax" if node.op.name == "argmax" else "ArgMin"
    index = g.add(onnx_op, [data], axis=axis, keepdims=keepdims)
    return [g.add("Cast", [index], to=_onnx_type(np.float32))]   # MXNet's indices: float32


def _target_shape(g, node):
    """The output shape as ONNX's Reshape takes it: the numbers shape inference gives, but
    for the axes that depend on the dynamic input axes: 0 (copy) where the input's axis there
    is the same, -1 (infer) for one other at most."""
    out, data = g.shape_pair(node), g.shape_pair(*node.inputs[0])
    dims = []
    for i, d in enumerate(g.static_dims(node)):
        copied = i < min(len(data[0]), len(data[1])) and all(
            shape[i] == data_shape[i] for shape, data_shape in zip(out, data))
        dims.append(d if d is not None else 0 if copied else -1)
    if dims.count(-1) > 1:
        g.refuse("more than one axis of its output depends on the dynamic input axes")
    if 0 in g.static_dims(node):
        g.refuse("its output has an empty axis, which ONNX's Reshape would read as a copy")
    return g.ints(dims, "shape")


@converts("reshape", "reshape_like")
def reshape(g, node, inputs):
    # MXNet's codes (0, -1, -2, -3, -4, reverse) are resolved by shape inference
    return [g.add("Reshape", [inputs[0], _target_shape(g, node)])]


@converts("flatten")
def flatten(g, node, inputs):
    return [g.add("Flatten", inputs, axis=1)]


@converts("transpose")
def transpose(g, node, inputs):
    axes = list(node.attrs["axes"]) or list(reversed(range(g.rank(*node.inputs[0]))))
    return [g.add("Transpose", inputs, perm=[a % len(axes) for a in axes])]


@converts("swapaxes")
def swapaxes(g, node, inputs):
    perm = list(range(g.rank(*node.inputs[0])))
    i, j = node.attrs["dim1"] % len(perm), node.attrs["dim2"] % len(perm)
    perm[i], perm[j] = perm[j], perm[i]
    return [g.add("Transpose", inputs, perm=perm)]


@converts("concat")
def concat(g, node, inputs):
    return [g.add("Concat", inputs, axis=node.attrs["dim"])]


@converts("stack")
def stack(g, node, inputs):
    axis = g.ints([node.attrs["axis"]], "axis")
    return [g.add("Concat", [g.add("Unsqueeze", [x, axis]) for x in inputs],
                  axis=node.attrs["axis"])]


@converts("split")
def split(g, node, inputs):
    a = node.attrs
    rank = g.rank(*node.inputs[0])
    axis, count = a["axis"] % rank, a["num_outputs"]
    size = g.static_dims(*node.inputs[0])[axis]
    if size is None:
        g.refuse("the axis it splits is dynamic")
    parts = g.add("Split", [inputs[0], g.ints([size // count] * count, "split")],
                  outputs=count, axis=axis)
    parts = parts if count > 1 else [parts]
    if a["squeeze_axis"]:
        parts = [g.add("Squeeze", [p, g.ints([axis], "axes")]) for p in parts]
    return parts


@converts("expand_dims")
def expand_dims(g, node, inputs):
    return [g.add("Unsqueeze", [inputs[0], g.ints([node.attrs["axis"]], "axes")])]


@converts("squeeze")
def squeeze(g, node, inputs):
    axis = node.attrs["axis"]
    if axis is None:
        dims = g.static_dims(*node.inputs[0])
        axes = [i for i, d in enumerate(dims) if d == 1]
    else:
        axes = [a % g.rank(*node.inputs[0]) for a in axis]
    return [g.add("Squeeze", [inputs[0], g.ints(axes, "axes")])]


@converts("slice")
def slice_(g, node, inputs):
    a = node.attrs
    count = len(a["begin"])
    steps = list(a["step"]) or [None] * count
    steps = [1 if s is None else s for s in steps]
    # Python's slicing, as the kernel's: an open end runs to the last element in the step's
    # direction, which ONNX's Slice gives for the largest and smallest int64
    begins = [b if b is not None else (0 if s > 0 else _INT64_MAX)
              for b, s in zip(a["begin"], steps)]
    ends = [e if e is not None else (_INT64_MAX if s > 0 else _INT64_MIN)
            for e, s in zip(a["end"], steps)]
    return [g.add("Slice", [inputs[0], g.ints(begins, "starts"), g.ints(ends, "ends"),
                            g.ints(range(count), "axes"), g.ints(steps, "steps")])]


@converts("reverse")
def reverse(g, node, inputs):
    axes = node.attrs["axis"]
    count = len(axes)
    return [g.add("Slice", [inputs[0], g.ints([-1] * count, "starts"),
                            g.ints([_INT64_MIN] * count, "ends"), g.ints(axes, "axes"),
                            g.ints([-1] * count, "steps")])]


@converts("slice_axis")
def slice_axis(g, node, inputs):
    a = node.attrs
    end = _INT64_MAX if a["end"] is None else a["end"]
    return [g.add("Slice", [inputs[0], g.ints([a["begin"]], "starts"), g.ints([end], "ends"),
                            g.ints([a["axis"]], "axes")])]


@converts("Pad")
def pad(g, node, inputs):
    a = node.attrs
    widths = list(a["pad_width"])
    pads = widths[0::2] + widths[1::2]
    mode = {"constant": "constant", "edge": "edge", "reflect": "reflect"}[a["mode"]]
    extra = [g.const(a["constant_value"], hint="value")] if mode == "constant" else []
    return [g.add("Pad", [inputs[0], g.ints(pads, "pads")] + extra, mode=mode)]


@converts("where")
def where(g, node, inputs):
    condition = g.add("Cast", [inputs[0]], to=_onnx_type(np.bool_))   # nonzero is true
    return [g.add("Where", [condition, inputs[1], inputs[2]])]


@converts("take")
def take(g, node, inputs):
    a = node.attrs
    size = g.static_dims(*node.inputs[0])[a["axis"]]
    if a["mode"] != "clip" or size is None:
        g.refuse("only mode='clip' on a static axis is supported")
    positions = g.add("Cast", [inputs[1]], to=_onnx_type(np.int64))
    positions = g.add("Clip", [positions, g.const(0, np.int64, "low"),
                               g.const(size - 1, np.int64, "high")])
    return [g.add("Gather", [inputs[0], positions], axis=a["axis"])]


@converts("dot")
def dot(g, node, inputs):
    a = node.attrs
    if any(g.rank(*parent) > 2 for parent in node.inputs):
        g.refuse("only 1-d and 2-d inputs are supported (MXNet's dot of higher ranks "
                 "contracts other axes than MatMul's)")
    lhs, rhs = inputs
    if a["transpose_a"] and g.rank(*node.inputs[0]) == 2:
        lhs = g.add("Transpose", [lhs], perm=[1, 0])
    if a["transpose_b"] and g.rank(*node.inputs[1]) == 2:
        rhs = g.add("Transpose", [rhs], perm=[1, 0])
    return [g.add("MatMul", [lhs, rhs])]


@converts("batch_dot")
def batch_dot(g, node, inputs):
    a = node.attrs
    lhs, rhs = inputs
    if a["transpose_a"]:
        lhs = g.add("Transpose", [lhs], perm=[0, 2, 1])
    if a["transpose_b"]:
        rhs = g.add("Transpose", [rhs], perm=[0, 2, 1])
    return [g.add("MatMul", [lhs, rhs])]


@converts("tile")
def tile(g, node, inputs):
    reps = list(node.attrs["reps"])
    rank = g.rank(*node.inputs[0])
    data = inputs[0]
    if len(reps) > rank:        # MXNet promotes the data with leading axes of 1
        data = g.add("Unsqueeze", [data, g.ints(range(len(reps) - rank), "axes")])
    reps = [1] * (rank - len(reps)) + reps
    return [g.add("Tile", [data, g.ints(reps, "repeats")])]


@converts("broadcast_to", "broadcast_axis", "broadcast_like")
def broadcast(g, node, inputs):
    before, after = g.static_dims(*node.inputs[0]), g.static_dims(node)
    shape = []
    for old, new in zip(before, after):
        if old == new or new is None and old is None:
            shape.append(1)         # Expand keeps an axis it is given 1 for
        elif old == 1 and new is not None:
            shape.append(new)
        else:
            g.refuse("it broadcasts an axis to a size that depends on the dynamic input axes")
    return [g.add("Expand", [inputs[0], g.ints(shape, "shape")])]


@converts("zeros_like", "ones_like")
def constant_like(g, node, inputs):
    from onnx import helper
    value = 0.0 if node.op.name == "zeros_like" else 1.0
    return [g.add("ConstantOfShape", [g.add("Shape", inputs)],
                  value=helper.make_tensor("value", _onnx_type(g.dtype), [1], [value]))]


@converts("_zeros", "_ones", "_full", "_arange", "_eye", "_linspace")
def creation(g, node, inputs):
    # no inputs: the array the kernel makes is the constant
    return [g.const(ops.get(node.op.name)(**node.attrs), np.dtype(node.attrs["dtype"]),
                    "value")]
