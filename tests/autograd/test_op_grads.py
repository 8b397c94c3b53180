"""Every operator's gradient against central finite differences (float64, small shapes)."""
import numpy as np
import pytest

from ast_hybrid import ops
from ast_hybrid.ops.elemwise import BINARY, SCALAR_NAMES, UNARY

import gradcheck


def r(*shape, low=-1.0, high=1.0, seed=0):
    return np.random.default_rng(seed + 7 * len(shape) + sum(shape)).uniform(low, high, shape)


def away(*shape, seed=0):
    """Values away from 0 and kinks: +-[0.3, 1.2] with random signs."""
    rng = np.random.default_rng(seed + 3)
    return rng.uniform(0.3, 1.2, shape) * rng.choice([-1.0, 1.0], shape)


POSITIVE = {"log": (0.5, 2.0), "sqrt": (0.5, 2.0), "rsqrt": (0.5, 2.0), "reciprocal": (0.5, 2.0),
            "log1p": (0.0, 1.0)}

CASES = []   # (id, op name, inputs, attrs, inputs to check)


def case(name, inputs, attrs=None, wrt=None, label=None):
    CASES.append(pytest.param(name, inputs, attrs or {}, wrt, id=label or name))


for _name in UNARY:
    if _name in ("sign", "floor", "ceil", "round"):
        continue
    low, high = POSITIVE.get(_name, (-1.0, 1.0))
    case(_name, [away(3, 4) if _name in ("relu", "abs") else r(3, 4, low=low, high=high)])

for _act in ("relu", "sigmoid", "tanh", "softrelu", "softsign"):
    case("Activation", [away(2, 5)], {"act_type": _act}, label=f"Activation-{_act}")

_BINARY_INPUTS = {"power": (r(2, 3, low=0.5, high=2.0), r(2, 3)),
                  "mod": (r(2, 3, low=0.1, high=0.9) + 2.0, r(2, 3, low=0.6, high=0.9, seed=1)),
                  "div": (r(2, 3), r(2, 3, low=0.5, high=2.0, seed=1))}
for _base in BINARY:
    if _base in ("equal", "not_equal", "greater", "greater_equal", "lesser", "lesser_equal"):
        continue
    lhs, rhs = _BINARY_INPUTS.get(_base, (r(2, 3), r(2, 3, seed=1)))
    if _base in ("maximum", "minimum"):
        rhs = lhs + away(2, 3, seed=2) * 0.5
    case("broadcast_" + _base, [lhs, rhs])
    case("broadcast_" + _base, [lhs, rhs[:1]], label=f"broadcast_{_base}-rows")
    if _base in ("add", "sub", "mul", "div"):
        case({"add": "elemwise_add", "sub": "elemwise_sub", "mul": "elemwise_mul",
              "div": "elemwise_div"}[_base], [lhs, rhs])
    forward, reverse = SCALAR_NAMES[_base]
    data = lhs if _base not in ("maximum", "minimum") else away(2, 3)
    scalar = {"power": 2.5, "mod": 0.7, "hypot": 0.8}.get(_base, 0.4)
    if _base == "maximum" or _base == "minimum":
        scalar = 0.0
    case(forward, [data], {"scalar": scalar})
    if reverse:
        rdata = r(2, 3, low=0.5, high=2.0) if _base in ("div", "mod") else r(2, 3)
        case(reverse, [rdata], {"scalar": 1.7 if _base != "mod" else 3.3})

for _cmp in ("equal", "not_equal", "greater", "greater_equal", "lesser", "lesser_equal"):
    case("broadcast_" + _cmp, [r(2, 3), r(2, 3, seed=1)])
    case(SCALAR_NAMES[_cmp][0], [r(2, 3)], {"scalar": 0.1})
for _flat in ("sign", "floor", "ceil", "round"):
    case(_flat, [away(2, 3) * 2.2])

case("add_n", [r(2, 3), r(2, 3, seed=1), r(2, 3, seed=2)])
case("clip", [away(3, 4)], {"a_min": -0.5, "a_max": 0.6})
case("cast", [r(2, 3)], {"dtype": "float64"})
case("identity", [r(2, 3)])
case("smooth_l1", [away(3, 4) * 2], {"scalar": 1.5})

case("FullyConnected", [r(2, 3, 2), r(4, 6, seed=1), r(4, seed=2)], {"num_hidden": 4})
case("FullyConnected", [r(2, 3), r(4, 3, seed=1)], {"num_hidden": 4, "no_bias": True},
     label="FullyConnected-nobias")
case("FullyConnected", [r(2, 3, 5), r(4, 5, seed=1), r(4, seed=2)],
     {"num_hidden": 4, "flatten": False}, label="FullyConnected-noflatten")
case("Dropout", [r(3, 4)], {"p": 0.5}, label="Dropout-predict")
case("softmax", [r(3, 4)])
case("softmax", [r(3, 4)], {"axis": 0, "temperature": 2.0}, label="softmax-axis0-T2")
case("log_softmax", [r(3, 4)])
case("log_softmax", [r(2, 3, 4)], {"axis": 1}, label="log_softmax-axis1")
for _act in ("leaky", "elu", "selu", "gelu"):
    case("LeakyReLU", [away(3, 4)], {"act_type": _act, "slope": 0.3}, label=f"LeakyReLU-{_act}")
case("LeakyReLU", [away(2, 3, 2), r(3, low=0.1, high=0.5)], {"act_type": "prelu"},
     label="LeakyReLU-prelu")
case("LeakyReLU", [away(2, 3), r(1, low=0.1, high=0.5)], {"act_type": "prelu"},
     label="LeakyReLU-prelu-shared")
case("Embedding", [np.array([[0, 2], [4, 2]], dtype=np.float64), r(5, 3)],
     {"input_dim": 5, "output_dim": 3}, wrt=[1])

for _red in ("sum", "mean", "max", "min", "prod"):
    data = r(3, 4, low=0.5, high=1.5) if _red == "prod" else r(3, 4)
    case(_red, [data], label=f"{_red}-all")
    case(_red, [r(2, 3, 4, low=0.5, high=1.5)], {"axis": (1,)}, label=f"{_red}-axis1")
    case(_red, [r(2, 3, 4, low=0.5, high=1.5)], {"axis": (0, 2), "keepdims": True},
         label=f"{_red}-keepdims")
    case(_red, [r(2, 3, 4, low=0.5, high=1.5)], {"axis": (1,), "exclude": True},
         label=f"{_red}-exclude")
case("norm", [r(3, 4)], label="norm-all")
case("norm", [r(3, 4)], {"axis": (1,)}, label="norm-axis")
case("norm", [away(3, 4)], {"ord": 1, "axis": (0,), "keepdims": True}, label="norm-l1")
case("argmax", [r(3, 4)], {"axis": 1})
case("argmin", [r(3, 4)], {"axis": 1})

case("dot", [r(2, 3), r(3, 4, seed=1)])
case("dot", [r(3, 2), r(4, 3, seed=1)], {"transpose_a": True, "transpose_b": True},
     label="dot-TT")
case("dot", [r(2, 2, 3), r(3, 4, seed=1)], label="dot-3d")
case("dot", [r(3, 2, 2), r(4, 3, seed=1)], {"transpose_a": True, "transpose_b": True},
     label="dot-3d-TT")
case("dot", [r(3), r(3, seed=1)], label="dot-vectors")
case("batch_dot", [r(2, 2, 3), r(2, 3, 4, seed=1)])
case("batch_dot", [r(2, 3, 2), r(2, 4, 3, seed=1)], {"transpose_a": True, "transpose_b": True},
     label="batch_dot-TT")

case("reshape", [r(2, 3, 2)], {"shape": (0, -1)})
case("reshape_like", [r(2, 3), r(3, 2, 1, seed=1)], wrt=[0])
case("transpose", [r(2, 3, 4)], {"axes": (1, 2, 0)})
case("transpose", [r(2, 3)], label="transpose-default")
case("swapaxes", [r(2, 3, 4)], {"dim1": 0, "dim2": 2})
case("flatten", [r(2, 3, 2)])
case("expand_dims", [r(2, 3)], {"axis": 1})
case("squeeze", [r(2, 1, 3)])
case("concat", [r(2, 3), r(2, 1, seed=1), r(2, 2, seed=2)], {"dim": 1})
case("stack", [r(2, 3), r(2, 3, seed=1)], {"axis": 1})
case("split", [r(2, 6)], {"num_outputs": 3, "axis": 1})
case("split", [r(3, 2)], {"num_outputs": 3, "axis": 0, "squeeze_axis": True},
     label="split-squeeze")
case("tile", [r(2, 3)], {"reps": (2, 1, 2)})
case("repeat", [r(2, 3)], {"repeats": 2, "axis": 1})
case("repeat", [r(2, 3)], {"repeats": 3}, label="repeat-flat")
case("broadcast_to", [r(1, 3)], {"shape": (4, 3)})
case("broadcast_like", [r(2, 1), r(2, 3, seed=1)], wrt=[0])
case("broadcast_axis", [r(2, 1, 3)], {"axis": (1,), "size": (4,)})
case("slice", [r(4, 5)], {"begin": (1, None), "end": (3, None), "step": (1, 2)})
case("slice_axis", [r(4, 5)], {"axis": 1, "begin": 1, "end": 4})
case("take", [r(4, 3), np.array([[0, 2], [2, 3]], dtype=np.float64)], {"axis": 0}, wrt=[0])
case("take", [r(3, 4), np.array([1, 1, 3], dtype=np.float64)], {"axis": 1}, wrt=[0],
     label="take-axis1")
case("pick", [r(3, 4), np.array([0, 3, 1], dtype=np.float64)], wrt=[0])
case("pick", [r(3, 4), np.array([[0, 2, 1, 2]], dtype=np.float64)], {"axis": 0,
     "keepdims": True}, wrt=[0], label="pick-axis0-keepdims")
case("one_hot", [np.array([0.5, 2.5], dtype=np.float64)], {"depth": 3})
case("where", [np.array([[1, 0, 1], [0, 0, 1]], dtype=np.float64), r(2, 3), r(2, 3, seed=1)],
     wrt=[1, 2])
case("where", [np.array([1, 0], dtype=np.float64), r(2, 3), r(2, 3, seed=1)], wrt=[1, 2],
     label="where-rows")

_BN = [r(4, 3, 2), r(3, low=0.5, high=1.5, seed=1), r(3, seed=2), r(3, seed=3) * 0.1,
       r(3, low=0.5, high=1.5, seed=4)]
case("BatchNorm", _BN, {"training": True, "fix_gamma": False}, wrt=[0, 1, 2],
     label="BatchNorm-train")
case("BatchNorm", _BN, {"training": True, "fix_gamma": True}, wrt=[0, 2],
     label="BatchNorm-train-fixgamma")
case("BatchNorm", _BN, {"training": False, "fix_gamma": False}, wrt=[0, 1, 2],
     label="BatchNorm-predict")
case("BatchNorm", [r(4, 3), _BN[1], _BN[2], _BN[3], _BN[4]],
     {"training": True, "fix_gamma": False, "axis": -1, "use_global_stats": False},
     wrt=[0, 1, 2], label="BatchNorm-train-lastaxis")
case("LayerNorm", [r(3, 4), r(4, seed=1), r(4, seed=2)])
case("LayerNorm", [r(3, 4, 2), r(4, seed=1), r(4, seed=2)], {"axis": 1}, label="LayerNorm-axis1")

case("Convolution", [r(2, 3, 5), r(4, 3, 3, seed=1), r(4, seed=2)],
     {"kernel": (3,), "num_filter": 4}, label="Convolution-1d")
case("Convolution", [r(1, 2, 5, 5), r(3, 2, 3, 3, seed=1), r(3, seed=2)],
     {"kernel": (3, 3), "num_filter": 3, "stride": (2, 1), "pad": (1, 1)},
     label="Convolution-2d-stride-pad")
case("Convolution", [r(1, 2, 6, 6), r(2, 2, 2, 2, seed=1)],
     {"kernel": (2, 2), "num_filter": 2, "dilate": (2, 2), "no_bias": True},
     label="Convolution-2d-dilate")
case("Convolution", [r(1, 4, 4, 4), r(6, 2, 3, 3, seed=1), r(6, seed=2)],
     {"kernel": (3, 3), "num_filter": 6, "num_group": 2, "pad": (1, 1)},
     label="Convolution-2d-groups")
case("Convolution", [r(1, 3, 4, 4), r(3, 1, 3, 3, seed=1), r(3, seed=2)],
     {"kernel": (3, 3), "num_filter": 3, "num_group": 3}, label="Convolution-2d-depthwise")
case("Pooling", [r(1, 2, 5, 5)], {"kernel": (2, 2), "stride": (2, 2), "pool_type": "max"},
     label="Pooling-max")
case("Pooling", [r(1, 2, 5, 5)], {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1),
                                  "pool_type": "max", "pooling_convention": "full"},
     label="Pooling-max-pad-full")
case("Pooling", [r(1, 2, 5, 5)], {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1),
                                  "pool_type": "avg"}, label="Pooling-avg-pad")
case("Pooling", [r(1, 2, 5, 5)], {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1),
                                  "pool_type": "avg", "count_include_pad": False},
     label="Pooling-avg-exclude-pad")
case("Pooling", [r(1, 2, 6)], {"kernel": (2,), "pool_type": "sum"}, label="Pooling-sum-1d")
case("Pooling", [r(2, 3, 3, 3)], {"global_pool": True, "pool_type": "max"},
     label="Pooling-global-max")
case("Pooling", [r(2, 3, 3, 3)], {"global_pool": True, "pool_type": "avg"},
     label="Pooling-global-avg")
case("reverse", [r(3, 4)], {"axis": (0, 1)})
case("sort", [r(3, 4)], {"axis": 1})
case("sort", [r(3, 4)], {"axis": None, "is_ascend": False}, label="sort-flat-descending")
case("argsort", [r(3, 4)])
case("topk", [r(3, 4)], {"k": 2, "ret_typ": "value"}, label="topk-value")
case("topk", [r(3, 4)], {"k": 2, "axis": 0, "ret_typ": "both"}, label="topk-both")
case("topk", [r(3, 4)], {"k": 2}, label="topk-indices")
case("Deconvolution", [r(2, 3, 4), r(3, 2, 3, seed=1)], {"kernel": (3,), "num_filter": 2,
     "stride": (2,), "pad": (1,), "adj": (1,)}, label="Deconvolution-1d")
case("Deconvolution", [r(1, 4, 3, 3), r(4, 2, 2, 3, seed=1), r(4, seed=2)],
     {"kernel": (2, 3), "num_filter": 4, "num_group": 2, "stride": (2, 1), "dilate": (1, 2),
      "no_bias": False}, label="Deconvolution-2d-groups-bias")
case("Deconvolution", [r(1, 2, 3, 2), r(2, 2, 3, 3, seed=1)],
     {"kernel": (3, 3), "num_filter": 2, "stride": (2, 2), "target_shape": (6, 4)},
     label="Deconvolution-2d-target-shape")
case("InstanceNorm", [r(2, 3, 4), r(3, seed=1), r(3, seed=2)], {"eps": 1e-3})
case("GroupNorm", [r(2, 4, 3, 2), r(2, seed=1), r(2, seed=2)], {"num_groups": 2})
case("GroupNorm", [r(2, 6, 4), r(3, seed=1), r(3, seed=2)],
     {"num_groups": 3, "output_mean_var": True}, label="GroupNorm-mean-var")
for _mode in ("constant", "edge", "reflect"):
    case("Pad", [r(1, 2, 3, 4)], {"mode": _mode, "pad_width": (0, 0, 0, 0, 2, 1, 1, 3)},
         label=f"Pad-{_mode}")
case("Pooling", [r(1, 4, 5, 2)], {"kernel": (2, 2), "pool_type": "avg", "layout": "NHWC",
     "pad": (1, 0)}, label="Pooling-avg-nhwc")
case("Pooling", [away(1, 4, 4, 3)], {"kernel": (2, 2), "layout": "NHWC"},
     label="Pooling-max-nhwc")
case("zeros_like", [r(2, 3)])
case("ones_like", [r(2, 3)])

case("erf", [r(3, 4, low=-2.0, high=2.0)])
case("erfinv", [r(3, 4, low=-0.9, high=0.9)])
case("shape_array", [r(2, 3)])
case("size_array", [r(2, 3)])
case("_contrib_arange_like", [r(2, 3)], {"repeat": 2})
case("_contrib_div_sqrt_dim", [r(2, 3, 4)])
case("_contrib_interleaved_matmul_selfatt_qk", [r(3, 2, 12)], {"heads": 2})
case("_contrib_interleaved_matmul_selfatt_valatt", [r(3, 2, 12), r(4, 3, 3, seed=1)],
     {"heads": 2})
case("_contrib_interleaved_matmul_encdec_qk", [r(3, 2, 4), r(5, 2, 8, seed=1)], {"heads": 2})
case("_contrib_interleaved_matmul_encdec_valatt", [r(5, 2, 8), r(4, 3, 5, seed=1)],
     {"heads": 2})
case("_contrib_AdaptiveAvgPooling2D", [r(1, 2, 5, 4)], {"output_size": (3, 2)})
for _align in (True, False):
    case("_contrib_BilinearResize2D", [r(1, 2, 3, 4)],
         {"height": 5, "width": 3, "align_corners": _align}, label=f"BilinearResize2D-{_align}")
case("_contrib_BilinearResize2D", [r(1, 1, 3, 3), r(1, 1, 2, 5, seed=1)], {"mode": "like"},
     wrt=[0], label="BilinearResize2D-like")
_LENGTHS = np.array([2, 4, 0.0])
for _name in ("SequenceMask", "SequenceReverse"):
    case(_name, [r(4, 3, 2), _LENGTHS], {"use_sequence_length": True}, wrt=[0])
    case(_name, [r(4, 3, 2)], label=f"{_name}-whole")
case("SequenceMask", [r(3, 4, 2), _LENGTHS], {"use_sequence_length": True, "axis": 1},
     wrt=[0], label="SequenceMask-axis1")
case("SequenceLast", [r(4, 3, 2), np.array([2, 4, 1.0])], {"use_sequence_length": True},
     wrt=[0])
case("SequenceLast", [r(3, 4, 2)], {"axis": 1}, label="SequenceLast-whole-axis1")
for _name in ("softmax", "log_softmax"):
    case(_name, [r(2, 3, 4), np.array([[1, 4, 0], [2, 3, 4.0]])],
         {"use_length": True, "temperature": 1.5}, wrt=[0], label=f"{_name}-length")
    case(_name, [r(2, 3, 4), np.array([[1, 0, 2, 3], [3, 3, 1, 2.0]])],
         {"use_length": True, "axis": 1}, wrt=[0], label=f"{_name}-length-axis1")
case("gather_nd", [r(3, 4, 2), np.array([[0, 2, 2, -1], [1, 3, 3, 0.0]])], wrt=[0])
case("scatter_nd", [r(4, 2), np.array([[0, 2, 0, 1.0]])], {"shape": (3, 2)}, wrt=[0])
case("reshape_like", [r(6, 2), r(3, 2, 5, seed=1)],
     {"lhs_begin": 0, "lhs_end": 1, "rhs_begin": 0, "rhs_end": 2}, wrt=[0],
     label="reshape_like-ranges")
case("slice_like", [r(3, 4, 2), r(2, 2, seed=1)], {"axes": (0, -2)}, wrt=[0])
case("broadcast_like", [r(1, 3, 1), r(2, 5, 4, seed=1)], {"lhs_axes": (0, 2),
     "rhs_axes": (0, 2)}, wrt=[0], label="broadcast_like-axes")
case("_image_normalize", [r(2, 3, 3, 4)], {"mean": (0.1, 0.2, 0.3), "std": (0.5, 2.0, 4.0)})
for _size, _interp in (((3, 5), 1), ((7, 2), 1), ((2, 2), 1), ((5, 3), 0)):
    case("_image_resize", [r(4, 4, 2)], {"size": _size, "interp": _interp},
         label=f"_image_resize-{_size}-{_interp}")
case("_image_resize", [r(2, 3, 5, 1)], {"size": (4,), "keep_ratio": True},
     label="_image_resize-batch")
for _flip in ("left_right", "top_bottom"):
    case(f"_image_flip_{_flip}", [r(3, 4, 2)])
# float32 outputs (to_tensor) and random draws (the random flips): checked below instead
CHECKED_BELOW = {"_image_to_tensor", "_image_random_flip_left_right",
                 "_image_random_flip_top_bottom"}

# the fused RNN operator, 2 layers in both directions of 3 units over 2 input features, with
# respect to the data, the flat parameters and the states
for _mode, _gates in (("lstm", 4), ("gru", 3), ("rnn_tanh", 1)):
    _count = ops.rnn.parameter_count(_mode, 3, 2, True, 2)
    _states = [r(4, 2, 3, seed=2)] + ([r(4, 2, 3, seed=3)] if _mode == "lstm" else [])
    case("RNN", [r(3, 2, 2), r(_count, seed=1) * 0.5] + _states,
         {"state_size": 3, "num_layers": 2, "mode": _mode, "bidirectional": True},
         wrt=list(range(2 + len(_states))), label=f"RNN-{_mode}")
case("_rnn_param_concat", [r(2, 3), r(4)], {"num_args": 2})

@pytest.mark.parametrize("name, inputs, attrs, wrt", CASES)
def test_gradient_matches_finite_differences(name, inputs, attrs, wrt):
    gradcheck.check_grad(name, inputs, attrs, wrt)


def test_block_grad_stops_the_gradient():
    op = ops.get("BlockGrad")
    data = r(2, 3)
    assert op.grad({}, [data], [data], [np.ones_like(data)]) == [None]


def test_every_operator_with_inputs_declares_a_gradient_and_is_checked():
    checked = {p.values[0] for p in CASES} | {"BlockGrad"} | CHECKED_BELOW
    missing_grad, unchecked = [], []
    for key, op in ops.REGISTRY.items():
        if key != op.name or op.inputs == ():
            continue
        if op.grad is None:
            missing_grad.append(op.name)
        if op.name not in checked:
            unchecked.append(op.name)
    assert not missing_grad, f"operators without a gradient: {missing_grad}"
    assert not unchecked, f"operators without a finite-difference check: {unchecked}"


def test_dropout_training_gradient_uses_the_kept_mask():
    from ast_hybrid.ops import get
    import ast_hybrid
    op = get("Dropout")
    attrs = op.parse_attrs({"p": 0.4})
    ast_hybrid.random.seed(3)
    data = away(50, 4)
    out = op.kernel(data, training=True, **attrs)
    g = np.ones_like(out)
    (grad,) = op.grad(dict(attrs, training=True), [data], [out], [g])
    kept = out != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(grad, kept / 0.6)
    np.testing.assert_allclose(out, data * grad)


def test_image_to_tensor_and_random_flip_gradients():
    import ast_hybrid
    data, g = r(2, 3, 4, 3), r(2, 3, 3, 4, seed=1)
    op = ops.get("_image_to_tensor")
    (grad,) = op.grad({}, [data], [op.kernel(data)], [g])
    np.testing.assert_allclose(grad, g.transpose(0, 2, 3, 1) / 255)
    assert op.grad({}, [data.astype(np.uint8)], [op.kernel(data)], [g]) == [None]
    for name, axis in (("_image_random_flip_left_right", 1), ("_image_random_flip_top_bottom", 0)):
        op = ops.get(name)
        data = r(3, 4, 2)
        g = r(3, 4, 2, seed=1)
        ast_hybrid.random.seed(0)
        seen = set()
        for _ in range(12):
            out = op.kernel(data)
            flipped = np.array_equal(out, np.flip(data, axis))
            seen.add(flipped)
            (grad,) = op.grad({}, [data], [out], [g])
            np.testing.assert_array_equal(grad, np.flip(g, axis) if flipped else g)
        assert seen == {True, False}
        with pytest.raises(ops.OpError, match="whether this output was flipped"):
            op.grad({}, [data], [out.copy()], [g])
