"""Every operator's kernel, called as compiled programs call it, agrees with imperative mode.

Imperative mode (an `nd` call) parses the attributes and applies the shape rule before the
kernel; compiled programs call the kernel alone. For a valid call of every operator of the
table and for bad variants of it made programmatically (each axis attribute out of range,
numeric attributes at 0, -1, NaN, ..., each input's shape changed), the outcomes must agree:
both return equal arrays, or both raise, the same OpError where imperative mode raises one.

Three ways of calling the kernel are compared with imperative mode:
- directly, with parsed attributes (a program's literal attributes) and with the raw values
  (a program's run-time attribute values, which reach the kernel unparsed): it must never
  return where imperative mode raises or raise where it returns; bad axes and any OpError it
  raises must be imperative mode's own;
- through a one-statement compiled program (kernel call, errors through backend.annotate, as
  every compiled program): the exception must be imperative mode's, type and message, also
  where numpy's own error comes first from the kernel (a shape numpy refuses);
- the kernel bound to the attributes (Op.specialize), which no program shows the attributes
  of: it must raise imperative mode's OpError itself.
"""
import ast
import math

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import autograd, ops
from ast_hybrid.compiler.backend import annotate, compile_program
from ast_hybrid.ndarray import NDArray
from ast_hybrid.ndarray.invoke import apply_named
from ast_hybrid.ops.elemwise import _ELEMWISE_NAMES, BINARY, SCALAR_NAMES, UNARY


def r(*shape, low=-1.0, high=1.0, seed=0):
    rng = np.random.default_rng(seed + 7 * len(shape) + sum(shape))
    return rng.uniform(low, high, shape).astype(np.float32)


def positions(*values):
    return np.array(values, dtype=np.float32)


EXAMPLES = {}   # operator name -> [(inputs, attrs)]: valid calls the bad cases start from


def example(name, inputs, **attrs):
    EXAMPLES.setdefault(name, []).append((list(inputs), attrs))


for _name in UNARY:
    example(_name, [r(2, 3, low=0.5, high=2.0)])
for _act in ("relu", "sigmoid"):
    example("Activation", [r(2, 3)], act_type=_act)
for _base in BINARY:
    example("broadcast_" + _base, [r(2, 3, low=0.5, high=2), r(1, 3, low=0.5, high=2, seed=1)])
    for _scalar_op in SCALAR_NAMES[_base]:
        if _scalar_op:
            example(_scalar_op, [r(2, 3, low=0.5, high=2)], scalar=1.5)
for _name in _ELEMWISE_NAMES.values():
    example(_name, [r(2, 3, low=0.5, high=2), r(2, 3, low=0.5, high=2, seed=1)])
example("add_n", [r(2, 3), r(2, 3, seed=1), r(2, 3, seed=2)])
example("clip", [r(2, 3)], a_min=-0.5, a_max=0.5)
example("cast", [r(2, 3)], dtype="float64")
example("identity", [r(2, 3)])
example("BlockGrad", [r(2, 3)])
example("smooth_l1", [r(2, 3)], scalar=1.5)
example("FullyConnected", [r(2, 3, 2), r(4, 6, seed=1), r(4, seed=2)], num_hidden=4)
example("FullyConnected", [r(2, 3), r(4, 3, seed=1)], num_hidden=4, no_bias=True)
example("FullyConnected", [r(2, 3, 5), r(4, 5, seed=1), r(4, seed=2)], num_hidden=4,
        flatten=False)
example("Dropout", [r(3, 4)], p=0.5)
example("Dropout", [r(3, 4)], p=0.5, mode="always", axes=(1,))
example("softmax", [r(2, 3, 4)], axis=1)
example("log_softmax", [r(2, 3, 4)], axis=1)
example("LeakyReLU", [r(2, 3)], act_type="leaky", slope=0.3)
example("LeakyReLU", [r(2, 3, 2), r(3, low=0.1, high=0.5)], act_type="prelu")
example("Embedding", [positions(0, 2, 4), r(5, 3)], input_dim=5, output_dim=3)
for _name in ("sum", "mean", "max", "min", "prod"):
    example(_name, [r(2, 3, 4)], axis=(1,))
    example(_name, [r(2, 3, 4)], axis=(0, 2), keepdims=True, exclude=True)
example("norm", [r(2, 3, 4)], axis=(1,))
example("norm", [r(2, 3)], ord=1, axis=(0,), keepdims=True)
example("argmax", [r(2, 3, 4)], axis=1)
example("argmin", [r(2, 3, 4)], axis=1)
example("dot", [r(2, 3), r(3, 4, seed=1)])
example("dot", [r(2, 2, 3), r(3, 4, seed=1)])
example("batch_dot", [r(2, 2, 3), r(2, 3, 4, seed=1)])
example("reshape", [r(2, 3, 2)], shape=(0, -1))
example("reshape_like", [r(2, 3), r(3, 2, 1, seed=1)])
example("transpose", [r(2, 3, 4)], axes=(1, 2, 0))
example("swapaxes", [r(2, 3, 4)], dim1=0, dim2=2)
example("flatten", [r(2, 3, 2)])
example("expand_dims", [r(2, 3)], axis=1)
example("squeeze", [r(2, 1, 3)], axis=(1,))
example("concat", [r(2, 3), r(2, 1, seed=1)], dim=1)
example("stack", [r(2, 3), r(2, 3, seed=1)], axis=1)
example("split", [r(2, 6)], num_outputs=3, axis=1)
example("tile", [r(2, 3)], reps=(2, 1, 2))
example("repeat", [r(2, 3)], repeats=2, axis=1)
example("broadcast_to", [r(1, 3)], shape=(4, 3))
example("broadcast_like", [r(2, 1), r(2, 3, seed=1)])
example("broadcast_like", [r(2, 1), r(4, 3, seed=1)], lhs_axes=(1,), rhs_axes=(1,))
example("broadcast_axis", [r(2, 1, 3)], axis=(1,), size=(4,))
example("reverse", [r(3, 4)], axis=(0, 1))
example("slice", [r(4, 5)], begin=(1, None), end=(3, None), step=(1, 2))
example("slice_axis", [r(4, 5)], axis=1, begin=1, end=4)
example("take", [r(4, 3), positions(0, 2, 3)], axis=0)
example("take", [r(3, 4), positions(1, 3)], axis=1, mode="wrap")
example("pick", [r(3, 4), positions(0, 3, 1)], axis=1)
example("pick", [r(3, 4), positions(0, 2, 1, 2)], axis=0)
example("one_hot", [positions(0, 2)], depth=3)
example("where", [positions(1, 0), r(2, 3), r(2, 3, seed=1)])
_BATCH_NORM = [r(4, 3, 2), r(3, low=0.5, high=1.5, seed=1), r(3, seed=2), r(3, seed=3),
               r(3, low=0.5, high=1.5, seed=4)]
example("BatchNorm", _BATCH_NORM, fix_gamma=False)
example("BatchNorm", _BATCH_NORM, output_mean_var=True, axis=-2)
example("LayerNorm", [r(3, 4), r(4, seed=1), r(4, seed=2)])
example("InstanceNorm", [r(2, 3, 4), r(3, seed=1), r(3, seed=2)], eps=1e-3)
example("GroupNorm", [r(2, 4, 3), r(2, seed=1), r(2, seed=2)], num_groups=2)
example("GroupNorm", [r(2, 4, 3), r(2, seed=1), r(2, seed=2)], num_groups=2,
        output_mean_var=True)
example("Deconvolution", [r(1, 2, 3, 3), r(2, 3, 3, 3, seed=1), r(3, seed=2)], kernel=(3, 3),
        num_filter=3, stride=(2, 2), pad=(1, 1), adj=(1, 0), no_bias=False)
example("Deconvolution", [r(1, 4, 3), r(4, 1, 2, seed=1)], kernel=(2,), num_filter=2,
        num_group=2, target_shape=(5,))
example("Pad", [r(1, 2, 3, 4)], mode="reflect", pad_width=(0, 0, 0, 0, 1, 2, 2, 1))
example("Pad", [r(1, 2, 3, 4)], mode="constant", pad_width=(0, 0, 0, 0, 1, 0, 0, 1),
        constant_value=2.0)
example("Convolution", [r(1, 2, 5, 5), r(3, 2, 3, 3, seed=1), r(3, seed=2)], kernel=(3, 3),
        num_filter=3, stride=(2, 1), pad=(1, 1))
example("Convolution", [r(1, 4, 4, 4), r(4, 1, 3, 3, seed=1)], kernel=(3, 3), num_filter=4,
        num_group=4, no_bias=True)
example("Pooling", [r(1, 2, 5, 5)], kernel=(2, 2), stride=(2, 2))
example("Pooling", [r(1, 2, 5, 5)], kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg")
example("Pooling", [r(1, 2, 5, 5)], kernel=(2, 2), pool_type="sum")
example("Pooling", [r(2, 3, 3, 3)], global_pool=True)
example("_zeros", [], shape=(2, 3))
example("_ones", [], shape=(2, 3))
example("_full", [], shape=(2, 3), value=1.5)
example("_arange", [], start=1.0, stop=5.0, step=0.5, repeat=2)
example("_random_normal", [], shape=(2, 3), loc=1.0, scale=2.0)
example("_random_uniform", [], shape=(2, 3), low=-1.0, high=2.0)
example("zeros_like", [r(2, 3)])
example("ones_like", [r(2, 3)])
example("_linspace", [], start=0.0, stop=1.0, num=5)
example("_eye", [], N=3, M=4, k=1)
example("sort", [r(3, 4)], axis=0)
example("argsort", [r(3, 4)], axis=1, is_ascend=False)
example("topk", [r(3, 4)], k=2, ret_typ="both", axis=0)
example("topk", [r(3, 4)], k=2, ret_typ="mask")
example("erf", [r(2, 3)])
example("erfinv", [r(2, 3, low=-0.9, high=0.9)])
example("shape_array", [r(2, 3)])
example("size_array", [r(2, 3)])
example("_contrib_arange_like", [r(2, 3)], start=1.0, step=0.5, repeat=2)
example("_contrib_arange_like", [r(2, 3)], axis=1)
example("_contrib_div_sqrt_dim", [r(2, 4)])
example("_contrib_interleaved_matmul_selfatt_qk", [r(3, 2, 12)], heads=2)
example("_contrib_interleaved_matmul_selfatt_valatt", [r(3, 2, 12), r(4, 3, 3, seed=1)],
        heads=2)
example("_contrib_interleaved_matmul_encdec_qk", [r(3, 2, 4), r(5, 2, 8, seed=1)], heads=2)
example("_contrib_interleaved_matmul_encdec_valatt", [r(5, 2, 8), r(4, 3, 5, seed=1)],
        heads=2)
example("_contrib_AdaptiveAvgPooling2D", [r(1, 2, 5, 4)], output_size=(2, 3))
example("_contrib_BilinearResize2D", [r(1, 2, 3, 4)], height=5, width=2)
example("_contrib_BilinearResize2D", [r(1, 2, 3, 4)], scale_height=2.0, scale_width=0.5,
        align_corners=False)
example("_contrib_BilinearResize2D", [r(1, 2, 3, 4), r(1, 1, 2, 6, seed=1)], mode="like")
example("_image_to_tensor", [r(4, 5, 3, low=0, high=255)])
example("_image_to_tensor", [r(2, 4, 5, 1, low=0, high=255)])
example("_image_normalize", [r(3, 4, 5)], mean=(0.1, 0.2, 0.3), std=(0.5, 0.6, 0.7))
example("_image_normalize", [r(2, 1, 4, 5)], mean=0.5, std=2.0)
example("_image_resize", [r(4, 5, 3)], size=(3, 7))
example("_image_resize", [r(2, 6, 4, 3)], size=(3,), keep_ratio=True, interp=0)
for _flip in ("flip_left_right", "flip_top_bottom", "random_flip_left_right",
              "random_flip_top_bottom"):
    example("_image_" + _flip, [r(4, 5, 3)])
example("SequenceMask", [r(3, 2, 2), positions(1, 3)], use_sequence_length=True, value=-1.0)
example("SequenceMask", [r(2, 3, 2), positions(0, 3)], use_sequence_length=True, axis=1)
example("SequenceLast", [r(3, 2, 2), positions(1, 3)], use_sequence_length=True)
example("SequenceLast", [r(3, 2)], axis=1)
example("SequenceReverse", [r(3, 2, 2), positions(1, 3)], use_sequence_length=True)
example("softmax", [r(2, 3, 4), positions(1, 3, 0, 4, 2, 2).reshape(2, 3)], use_length=True)
example("log_softmax", [r(2, 3, 4), positions(1, 2, 0, 3, 2, 2, 1, 1).reshape(2, 4)],
        axis=1, use_length=True)
example("gather_nd", [r(3, 4, 2), positions(0, 2, -1, 1, 3, 0).reshape(2, 3)])
example("RNN", [r(3, 2, 2), r(ops.rnn.parameter_count("gru", 3, 1, False, 2)), r(1, 2, 3)],
        state_size=3, num_layers=1, mode="gru")
example("RNN", [r(3, 2, 2), r(ops.rnn.parameter_count("lstm", 3, 1, True, 2)), r(2, 2, 3),
                r(2, 2, 3)], state_size=3, num_layers=1, mode="lstm", bidirectional=True,
        state_outputs=True)
example("_rnn_param_concat", [r(2, 3), r(4)], num_args=2)
example("scatter_nd", [r(3, 2), positions(0, 3, 1).reshape(1, 3)], shape=(4, 2))
example("reshape_like", [r(6, 2), r(3, 2, 5, seed=1)], lhs_begin=0, lhs_end=1, rhs_begin=0,
        rhs_end=2)
example("slice_like", [r(3, 4), r(2, 3, seed=1)])
example("slice_like", [r(3, 4, 2), r(2, 2, seed=1)], axes=(0, -2))

AXIS_ATTRIBUTES = {"axis", "dim", "dim1", "dim2", "axes", "lhs_axes", "rhs_axes"}
# kinds whose run-time values (numbers and tuples of them, from shapes or asscalar()) a
# compiled program may hand a kernel unparsed; strings and booleans are compile-time values
RUNTIME_KINDS = {"int", "int_or_none", "float", "float_or_none", "shape", "shape_or_none",
                 "index_tuple"}

# The kernel FullyConnected binds for the optimizer (ops.nn.fully_connected) is shared by
# every num_hidden, so it cannot see a weight whose first dimension differs from num_hidden.
KNOWN_GAPS = {("FullyConnected", "bound", "num_hidden")}


def bad_variants(name, inputs, attrs):
    """(kind, inputs, attrs, what changed) for the bad calls made from one valid call."""
    op = ops.get(name)
    ndim = inputs[0].ndim if inputs else 0
    for key, spec in op.attrs.items():
        current = attrs.get(key, None if spec.required else spec.default)
        if key in AXIS_ATTRIBUTES:
            for axis in (ndim, ndim + 1, -ndim - 1, -ndim - 2):
                if spec.kind in ("int", "int_or_none"):
                    yield "axis", inputs, {**attrs, key: axis}, key
                else:
                    yield "axis", inputs, {**attrs, key: (axis,) + tuple(current or ())[1:]}, key
                    yield "axis", inputs, {**attrs, key: axis}, key    # one integer, unparsed
            if spec.kind in ("shape", "shape_or_none"):
                yield "axis", inputs, {**attrs, key: (0, 0)}, key
        elif spec.kind in ("float", "float_or_none"):
            for value in (math.nan, math.inf, -math.inf, 0.0, -1.0):
                yield "attribute", inputs, {**attrs, key: value}, key
        elif spec.kind in ("int", "int_or_none") and key != "num_args":
            for value in (0, -1, 10 ** 6):
                yield "attribute", inputs, {**attrs, key: value}, key
        elif spec.kind == "shape" and current:
            for value in (0, -1):
                yield "attribute", inputs, {**attrs, key: (value,) + tuple(current)[1:]}, key
        elif spec.kind == "bool" and takes_inputs(op, {**attrs, key: not current}, inputs):
            yield "attribute", inputs, {**attrs, key: not current}, key
    for i, array in enumerate(inputs):
        for shape in (array.shape[:-1] + (array.shape[-1] + 1,), array.shape[:-1],
                      (2,) + array.shape):
            changed = list(inputs)
            changed[i] = np.resize(array, shape).astype(array.dtype)
            yield "shape", changed, attrs, f"input {i}"


def takes_inputs(op, attrs, inputs):
    """Whether these attributes take this many inputs (binding them is the compiler's part:
    it refuses such a call when it compiles it)."""
    return op.inputs == ops.VARIADIC or len(op.input_names(op.parse_attrs(attrs))) == len(inputs)


def outcome(call):
    """("returns", arrays) or ("raises", exception type, message); random draws repeat."""
    ast_hybrid.random.seed(0)
    try:
        result = call()
    except Exception as error:          # noqa: BLE001 (any exception is an outcome)
        return ("raises", type(error), str(error))
    results = result if isinstance(result, (tuple, list)) else [result]
    return ("returns", [np.asarray(getattr(x, "_data", x)) for x in results])


def agree(expected, got):
    if expected[0] != got[0]:
        return False
    if expected[0] == "raises":
        return expected[1:] == got[1:]
    return len(expected[1]) == len(got[1]) and all(
        a.shape == b.shape and a.dtype == b.dtype
        and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        for a, b in zip(expected[1], got[1]))


def imperative(name, inputs, attrs, training):
    with autograd.train_mode() if training else autograd.predict_mode():
        return outcome(lambda: apply_named(name, [NDArray(a.copy()) for a in inputs],
                                           dict(attrs)))


def kernel_keywords(op, inputs, attrs, training, parse):
    keywords = dict(attrs)
    if op.inputs == ops.VARIADIC:
        keywords.setdefault("num_args", len(inputs))
    if parse:
        keywords = op.parse_attrs(keywords)
    if op.mode_dependent:
        keywords["training"] = training
    return keywords


def direct(op, inputs, keywords):
    return outcome(lambda: op.kernel(*[a.copy() for a in inputs], **keywords))


def through_program(op, inputs, keywords):
    """The kernel called by a compiled program: `return kernel(in0, ..., **keywords)`."""
    names = [f"in{i}" for i in range(len(inputs))]
    call = ast.Call(ast.Name("kernel", ast.Load()), [ast.Name(n, ast.Load()) for n in names],
                    [ast.keyword(k, ast.Name(f"attr_{k}", ast.Load())) for k in keywords])
    function = ast.FunctionDef("program", ast.arguments([], [ast.arg(n) for n in names], None,
                                                        [], [], None, []),
                               [ast.Return(call)], [], None)
    namespace = {"kernel": op.kernel, **{f"attr_{k}": v for k, v in keywords.items()}}
    program = compile_program([function], namespace, f"check {op.name}",
                              kernel_ops={"kernel": op})

    def call_program():
        try:
            return program.function(*[a.copy() for a in inputs])
        except Exception as error:      # noqa: BLE001 (as dispatch.CompiledEntry does)
            raise annotate(error, program)
    return outcome(call_program)


def bound(op, inputs, attrs):
    """The outcome of the kernel bound to the parsed attrs, or None where there is none."""
    if op.mode_dependent or op.specialize is None:
        return None
    keywords = kernel_keywords(op, inputs, attrs, False, True)
    try:
        kernel = op.specialized_kernel(keywords)
    except ops.OpError:
        return None         # attributes the optimizer would not bind (it keeps the kernel)
    if kernel is None:
        return None
    return outcome(lambda: kernel(*[a.copy() for a in inputs]))


def is_known_gap(op, path, inputs, attrs):
    if (op.name, path, "num_hidden") not in KNOWN_GAPS:
        return False
    return inputs[1].ndim != 2 or inputs[1].shape[0] != attrs["num_hidden"]


def disagreements(name):
    op = ops.get(name)
    found = []
    for inputs, attrs in EXAMPLES[name]:
        cases = [("valid", inputs, attrs, "nothing")] + list(bad_variants(name, inputs, attrs))
        for kind, case_inputs, case_attrs, changed in cases:
            for training in (False, True) if op.mode_dependent else (False,):
                found += compare(op, kind, case_inputs, case_attrs, changed, training)
    return found


def compare(op, kind, inputs, attrs, changed, training):
    expected = imperative(op.name, inputs, attrs, training)
    label = f"{kind} ({changed}) {[a.shape for a in inputs]} {attrs} training={training}"
    found = []

    def check(path, got, strict):
        if got is None or agree(expected, got) or is_known_gap(op, path, inputs, attrs):
            return
        if not strict and expected[0] == got[0] == "raises" and got[1] is not ops.OpError:
            return          # numpy's error, which a compiled program turns into the OpError
        found.append(f"{label}, {path}: imperative {_show(expected)}, kernel {_show(got)}")

    parsable = expected[0] == "returns" or "attribute" not in expected[2]
    if parsable:
        keywords = kernel_keywords(op, inputs, attrs, training, True)
        check("direct", direct(op, inputs, keywords), strict=kind == "axis")
        check("program", through_program(op, inputs, keywords), strict=True)
        check("bound", bound(op, inputs, attrs), strict=True)
    if all(op.attrs[k].kind in RUNTIME_KINDS and not op.attrs[k].choices
           for k in attrs if k in op.attrs):
        keywords = kernel_keywords(op, inputs, attrs, training, False)
        check("direct, run-time attributes", direct(op, inputs, keywords),
              strict=kind == "axis")
        check("program, run-time attributes", through_program(op, inputs, keywords),
              strict=True)
    return found


def _show(result):
    if result[0] == "raises":
        return f"raises {result[1].__name__}: {result[2]}"
    return f"returns {[a.shape for a in result[1]]}"


def test_every_operator_has_an_example():
    assert {op.name for op in ops.REGISTRY.values()} <= set(EXAMPLES)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")     # NaN and 0 attributes, on purpose
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_kernel_agrees_with_imperative_mode(name):
    found = disagreements(name)
    assert not found, f"{len(found)} disagreements:\n" + "\n".join(found[:20])


def test_known_gaps_still_disagree():
    """When the bound FullyConnected kernel learns num_hidden, drop it from KNOWN_GAPS."""
    op = ops.get("FullyConnected")
    inputs, attrs = EXAMPLES["FullyConnected"][0]
    attrs = {**attrs, "num_hidden": 5}
    assert imperative(op.name, inputs, attrs, False)[0] == "raises"
    assert bound(op, inputs, attrs)[0] == "returns"
