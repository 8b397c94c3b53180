"""The ONNX operators import_model reads, each as this package's operators computing the same."""
import numpy as np

MIN_OPSET = 13
IMPORTERS = {}


def reads(*op_types):
    def register(fn):
        for op_type in op_types:
            IMPORTERS[op_type] = fn
        return fn
    return register


def _folding(symbolic, numeric):
    """Read a node with `symbolic(n)`, or where its inputs are all constants with
    `numeric(n)`, numpy's result: shapes and weights reshaped or transposed stay constants."""
    def read(n):
        return numeric(n) if n.count() and n.all_const() else symbolic(n)
    return read


@reads("Constant")
def constant(n):
    from onnx import numpy_helper
    if "value" not in n.attrs:
        n.refuse("only a tensor `value` is supported")
    return numpy_helper.to_array(n.attrs["value"])


_UNARY = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softsign": "softsign",
          "Exp": "exp", "Log": "log", "Sqrt": "sqrt", "Reciprocal": "reciprocal", "Abs": "abs",
          "Neg": "negative", "Sign": "sign", "Floor": "floor", "Ceil": "ceil",
          "Round": "round", "Sin": "sin", "Cos": "cos", "Erf": "erf", "Identity": "identity"}


@reads(*_UNARY)
def unary(n):
    return n.apply(_UNARY[n.node.op_type], [n.input(0)])


@reads("Dropout")
def dropout(n):
    if len(n.node.output) > 1:
        n.refuse("its mask output is not supported")
    return n.apply("identity", [n.input(0)])      # a model is read for prediction


@reads("Softplus")
def softplus(n):
    return n.apply("Activation", [n.input(0)], act_type="softrelu")


_BINARY = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div", "Pow": "power",
           "Max": "maximum", "Min": "minimum"}
_SCALAR = {"add": ("_plus_scalar", "_plus_scalar"), "sub": ("_minus_scalar", "_rminus_scalar"),
           "mul": ("_mul_scalar", "_mul_scalar"), "div": ("_div_scalar", "_rdiv_scalar"),
           "power": ("_power_scalar", "_rpower_scalar"),
           "maximum": ("_maximum_scalar", "_maximum_scalar"),
           "minimum": ("_minimum_scalar", "_minimum_scalar")}
_COMPARE = {"Equal": "equal", "Greater": "greater", "GreaterOrEqual": "greater_equal",
            "Less": "lesser", "LessOrEqual": "lesser_equal"}


def _scalar(n, i):
    """The value of input i if it is a 0-d constant (a scalar operator then), else None."""
    if n.is_const(i) and n.const(i, "value").ndim == 0:
        return float(n.const(i, "value"))
    return None


def _binary(n, family, names):
    if n.count() != 2:
        n.refuse("only two inputs are supported")
    for i in (1, 0):
        value = _scalar(n, i)
        if value is not None and not (i == 0 and _scalar(n, 1) is not None):
            op = names[family][i == 0] if isinstance(names[family], tuple) else names[family]
            return n.apply(op, [n.input(1 - i)], scalar=value)
    return n.apply(f"broadcast_{family}", [n.input(0), n.input(1)])


@reads(*_BINARY)
def binary(n):
    if n.node.op_type in ("Max", "Min") and n.count() > 2:
        n.refuse("only two inputs are supported")
    return _binary(n, _BINARY[n.node.op_type], _SCALAR)


@reads(*_COMPARE)
def compare(n):
    family = _COMPARE[n.node.op_type]
    # the comparisons give 1.0 and 0.0 here, which Cast, Not and Where read as ONNX's bools
    return _binary(n, family, {family: f"_{family}_scalar"})


@reads("Not")
def logical_not(n):
    return n.apply("_equal_scalar", [n.input(0)], scalar=0.0)


@reads("Sum")
def sum_(n):
    total = n.input(0)
    for value in n.inputs()[1:]:
        total = n.apply("broadcast_add", [total, value])
    return total


@reads("Where")
def where(n):
    return n.apply("where", n.inputs())


@reads("Cast")
def cast(n):
    from onnx import helper
    dtype = np.dtype(helper.tensor_dtype_to_np_dtype(n.attr("to")))
    if n.is_const(0):
        return n.const(0, "input").astype(dtype)
    if dtype == np.bool_:       # nonzero is true: 1.0 and 0.0 stand for the bools here
        return n.apply("_not_equal_scalar", [n.input(0)], scalar=0.0)
    return n.apply("cast", [n.input(0)], dtype=dtype.name)


@reads("Gemm")
def gemm(n):
    if n.attr("alpha", 1.0) != 1.0 or n.attr("beta", 1.0) != 1.0 or n.attr("transA", 0):
        n.refuse("only alpha=1, beta=1, transA=0 are supported")
    weight = n.const(1, "B")
    if not n.attr("transB", 0):
        weight = np.ascontiguousarray(weight.T)
        n.reader.constants[n.node.input[1] + "_transposed"] = weight
        weight_name = n.node.input[1] + "_transposed"
    else:
        weight_name = n.node.input[1]
    inputs = [n.input(0), n.reader.value(weight_name)]
    if n.has(2):
        bias = n.const(2, "C")
        if bias.shape != (weight.shape[0],):
            n.refuse("only a bias of one value per output is supported")
        inputs.append(n.input(2))
    return n.apply("FullyConnected", inputs, num_hidden=weight.shape[0], no_bias=not n.has(2),
                   flatten=True)


@reads("MatMul")
def matmul(n):
    lhs, rhs = n.rank(0), n.rank(1)
    if rhs == 2 and n.is_const(1) and lhs >= 2:
        # x @ W for any rank of x is FullyConnected without flattening, weight W.T
        name = n.node.input[1] + "_transposed"
        n.reader.constants[name] = np.ascontiguousarray(n.const(1, "B").T)
        return n.apply("FullyConnected", [n.input(0), n.reader.value(name)],
                       num_hidden=n.const(1, "B").shape[1], no_bias=True, flatten=False)
    if lhs == rhs == 2:
        return n.apply("dot", [n.input(0), n.input(1)])
    if lhs == rhs == 3:
        return n.apply("batch_dot", [n.input(0), n.input(1)])
    n.refuse(f"inputs of ranks {lhs} and {rhs} are not supported")


def _symmetric_pads(n, ndim):
    if n.attr("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        n.refuse("auto_pad is not supported; give pads")
    pads = list(n.attr("pads", [0] * 2 * ndim))
    if pads[:ndim] != pads[ndim:]:
        n.refuse(f"pads {pads} differ at the two ends of an axis")
    return tuple(pads[:ndim])


@reads("Conv")
def conv(n):
    weight = n.const(1, "weight")
    ndim = weight.ndim - 2
    inputs = n.inputs()
    return n.apply("Convolution", inputs, kernel=tuple(weight.shape[2:]),
                   stride=tuple(n.attr("strides", [1] * ndim)),
                   dilate=tuple(n.attr("dilations", [1] * ndim)),
                   pad=_symmetric_pads(n, ndim), num_filter=weight.shape[0],
                   num_group=n.attr("group", 1), no_bias=len(inputs) < 3)


@reads("ConvTranspose")
def conv_transpose(n):
    if "output_shape" in n.attrs:
        n.refuse("output_shape is not supported; give pads and output_padding")
    weight = n.const(1, "weight")
    ndim, group = weight.ndim - 2, n.attr("group", 1)
    inputs = n.inputs()
    return n.apply("Deconvolution", inputs, kernel=tuple(weight.shape[2:]),
                   stride=tuple(n.attr("strides", [1] * ndim)),
                   dilate=tuple(n.attr("dilations", [1] * ndim)),
                   pad=_symmetric_pads(n, ndim), adj=tuple(n.attr("output_padding", [0] * ndim)),
                   num_filter=weight.shape[1] * group, num_group=group, no_bias=len(inputs) < 3)


@reads("MaxPool", "AveragePool")
def pool(n):
    kernel = tuple(n.attr("kernel_shape"))
    ndim = len(kernel)
    if len(n.node.output) > 1:
        n.refuse("its indices output is not supported")
    if n.attr("ceil_mode", 0):
        # ONNX drops a last window that starts in the padding, MXNet's 'full' keeps it
        n.refuse("ceil_mode=1 is not supported")
    if any(d != 1 for d in n.attr("dilations", [1] * ndim)):
        n.refuse("dilations are not supported")
    extra = {}
    if n.node.op_type == "AveragePool":
        extra["count_include_pad"] = bool(n.attr("count_include_pad", 0))
    return n.apply("Pooling", [n.input(0)], kernel=kernel,
                   pool_type="max" if n.node.op_type == "MaxPool" else "avg",
                   stride=tuple(n.attr("strides", [1] * ndim)), pad=_symmetric_pads(n, ndim),
                   **extra)


@reads("GlobalMaxPool", "GlobalAveragePool")
def global_pool(n):
    ndim = n.rank(0) - 2
    return n.apply("Pooling", [n.input(0)], kernel=(1,) * ndim, global_pool=True,
                   pool_type="max" if n.node.op_type == "GlobalMaxPool" else "avg")


@reads("BatchNormalization")
def batch_norm(n):
    if n.attr("training_mode", 0) or len(n.node.output) > 1:
        n.refuse("only inference mode with one output is supported")
    # ONNX's BatchNormalization always uses the given statistics
    return n.apply("BatchNorm", n.inputs(), eps=n.attr("epsilon", 1e-5), fix_gamma=False,
                   use_global_stats=True)


@reads("LayerNormalization")
def layer_norm(n):
    if n.attr("axis", -1) not in (-1, n.rank(0) - 1) or len(n.node.output) > 1 or n.count() < 3:
        n.refuse("only the last axis, with scale and bias, one output, is supported")
    return n.apply("LayerNorm", n.inputs(), axis=-1, eps=n.attr("epsilon", 1e-5))


@reads("InstanceNormalization")
def instance_norm(n):
    return n.apply("InstanceNorm", n.inputs(), eps=n.attr("epsilon", 1e-5))


@reads("LeakyRelu")
def leaky_relu(n):
    return n.apply("LeakyReLU", [n.input(0)], act_type="leaky", slope=n.attr("alpha", 0.01))


@reads("Elu")
def elu(n):
    return n.apply("LeakyReLU", [n.input(0)], act_type="elu", slope=n.attr("alpha", 1.0))


@reads("Selu")
def selu(n):
    from ..ops.nn import _SELU_ALPHA, _SELU_LAMBDA
    alpha, gamma = n.attr("alpha", 1.67326319217681884765625), n.attr("gamma", 1.05070102214813)
    if not (np.float32(alpha) == np.float32(_SELU_ALPHA)
            and np.float32(gamma) == np.float32(_SELU_LAMBDA)):
        n.refuse("only SELU's standard alpha and gamma are supported")
    return n.apply("LeakyReLU", [n.input(0)], act_type="selu")


@reads("PRelu")
def prelu(n):
    slope = n.const(1, "slope")
    # ONNX broadcasts the slope from the last axis: (C, 1, ..) for one per channel
    if slope.size > 1 and not (slope.ndim == n.rank(0) - 1 and slope.size == slope.shape[0]):
        n.refuse("only one slope, or one per channel (axis 1), is supported")
    name = n.node.input[1] + "_channels"
    n.reader.constants[name] = slope.reshape(-1)
    return n.apply("LeakyReLU", [n.input(0), n.reader.value(name)], act_type="prelu")


@reads("Softmax", "LogSoftmax")
def softmax(n):
    op = "softmax" if n.node.op_type == "Softmax" else "log_softmax"
    return n.apply(op, [n.input(0)], axis=n.attr("axis", -1))


@reads("Flatten")
def flatten(n):
    if n.attr("axis", 1) != 1:
        n.refuse("only axis=1 is supported")
    return n.apply("flatten", [n.input(0)])


def _reshape(n):
    measured = n.reader.shape_of.get(n.node.input[1])
    if measured is not None:        # to the shape of another tensor
        return n.apply("reshape_like", [n.input(0), n.reader.value(measured)])
    shape = [int(d) for d in n.const(1, "shape")]
    if n.attr("allowzero", 0) and 0 in shape:
        n.refuse("allowzero=1 with a 0 in the shape is not supported")
    # ONNX's 0 (copy the axis) and -1 (infer it) are MXNet's codes too
    return n.apply("reshape", [n.input(0)], shape=tuple(shape))


reads("Reshape")(_folding(_reshape, lambda n: _numpy_reshape(
    n.const(0, "data"), [int(d) for d in n.const(1, "shape")])))


def _numpy_reshape(array, shape):
    shape = [array.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return array.reshape(shape)


def _transpose(n):
    perm = n.attr("perm")
    return n.apply("transpose", [n.input(0)], axes=tuple(perm) if perm is not None else ())


reads("Transpose")(_folding(_transpose, lambda n: np.ascontiguousarray(
    np.transpose(n.const(0, "data"), n.attr("perm")))))


@reads("Concat")
def concat(n):
    inputs = n.inputs()
    return n.apply("concat", inputs, dim=n.attr("axis"), num_args=len(inputs))


@reads("Clip")
def clip(n):
    low = float(n.const(1, "min")) if n.has(1) else -np.inf
    high = float(n.const(2, "max")) if n.has(2) else np.inf
    return n.apply("clip", [n.input(0)], a_min=low, a_max=high)


def _axes(n, index):
    """Reduction axes, from the attribute (opsets before 18) or the input (ReduceSum)."""
    if "axes" in n.attrs:
        return tuple(n.attrs["axes"])
    if n.has(index):
        return tuple(int(a) for a in n.const(index, "axes"))
    if n.attr("noop_with_empty_axes", 0):
        n.refuse("noop_with_empty_axes=1 is not supported")
    return None


_REDUCE = {"ReduceSum": "sum", "ReduceMean": "mean", "ReduceMax": "max", "ReduceMin": "min",
           "ReduceProd": "prod"}


@reads(*_REDUCE)
def reduce(n):
    return n.apply(_REDUCE[n.node.op_type], [n.input(0)], axis=_axes(n, 1),
                   keepdims=bool(n.attr("keepdims", 1)))


@reads("ReduceL1", "ReduceL2")
def reduce_norm(n):
    return n.apply("norm", [n.input(0)], ord=1 if n.node.op_type == "ReduceL1" else 2,
                   axis=_axes(n, 1), keepdims=bool(n.attr("keepdims", 1)))


@reads("ArgMax", "ArgMin")
def arg_reduce(n):
    if n.attr("select_last_index", 0):
        n.refuse("select_last_index=1 is not supported")
    return n.apply("argmax" if n.node.op_type == "ArgMax" else "argmin", [n.input(0)],
                   axis=n.attr("axis", 0), keepdims=bool(n.attr("keepdims", 1)))


@reads("Slice")
def slice_(n):
    starts = [int(v) for v in n.const(1, "starts")]
    ends = [int(v) for v in n.const(2, "ends")]
    rank = n.rank(0)
    axes = [int(a) % rank for a in n.const(3, "axes")] if n.has(3) else list(range(len(starts)))
    steps = [int(s) for s in n.const(4, "steps")] if n.has(4) else [1] * len(starts)
    count = max(axes) + 1
    begin, end, step = [None] * count, [None] * count, [None] * count
    # Python's slicing clamps bounds beyond the axis (ONNX's open ends, the largest and
    # smallest int64) as ONNX's Slice does
    for axis, b, e, s in zip(axes, starts, ends, steps):
        begin[axis], end[axis], step[axis] = b, e, s
    return n.apply("slice", [n.input(0)], begin=tuple(begin), end=tuple(end),
                   step=tuple(step))


@reads("Unsqueeze")
def unsqueeze(n):
    axes = [int(a) for a in n.const(1, "axes")]
    rank = n.rank(0) + len(axes)
    result = n.input(0)
    for axis in sorted(a % rank for a in axes):
        result = n.apply("expand_dims", [result], axis=axis)
    return result


@reads("Squeeze")
def squeeze(n):
    axes = tuple(int(a) for a in n.const(1, "axes")) if n.has(1) else None
    return n.apply("squeeze", [n.input(0)], axis=axes)


@reads("Gather")
def gather(n):
    # ONNX counts negative indices from the end and refuses others out of range: 'wrap'
    # takes the first alike
    return n.apply("take", [n.input(0), n.input(1)], axis=n.attr("axis", 0), mode="wrap")


@reads("Pad")
def pad(n):
    if n.has(3):
        n.refuse("the axes input is not supported")
    mode = n.attr("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode not in ("constant", "edge", "reflect"):
        n.refuse(f"mode {mode!r} is not supported")
    pads = [int(p) for p in n.const(1, "pads")]
    half = len(pads) // 2
    widths = tuple(w for pair in zip(pads[:half], pads[half:]) for w in pair)
    value = float(n.const(2, "constant_value")) if n.has(2) else 0.0
    return n.apply("Pad", [n.input(0)], mode=mode, pad_width=widths, constant_value=value)


@reads("Tile")
def tile(n):
    return n.apply("tile", [n.input(0)], reps=tuple(int(r) for r in n.const(1, "repeats")))


@reads("Expand")
def expand(n):
    shape = [int(d) for d in n.const(1, "shape")]
    if len(shape) != n.rank(0):
        n.refuse("only a shape of the input's rank is supported")
    # Expand keeps an axis given 1; broadcast_to keeps one given 0
    return n.apply("broadcast_to", [n.input(0)], shape=tuple(0 if d == 1 else d for d in shape))


@reads("Split")
def split(n):
    count = len(n.node.output)
    if n.has(1):
        sizes = [int(s) for s in n.const(1, "split")]
        if len(set(sizes)) != 1:
            n.refuse("only equal parts are supported")
    result = n.apply("split", [n.input(0)], num_outputs=count, axis=n.attr("axis", 0))
    return [result[i] for i in range(count)] if count > 1 else [result]


@reads("Shape")
def shape(n):
    if "start" in n.attrs or "end" in n.attrs:
        n.refuse("start and end are not supported")
    n.reader.shape_of[n.node.output[0]] = n.node.input[0]
    return n.apply("shape_array", [n.input(0)])


@reads("ConstantOfShape")
def constant_of_shape(n):
    from onnx import numpy_helper
    measured = n.reader.shape_of.get(n.node.input[0])
    if measured is None:
        n.refuse("only the shape of a tensor (from Shape) is supported")
    value = float(numpy_helper.to_array(n.attrs["value"]).reshape(-1)[0]) \
        if "value" in n.attrs else 0.0
    like = n.reader.value(measured)
    if value == 1.0:
        return n.apply("ones_like", [like])
    zeros = n.apply("zeros_like", [like])
    return zeros if value == 0.0 else n.apply("_plus_scalar", [zeros], scalar=value)
