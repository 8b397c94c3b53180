"""Element-wise operators (ops/elemwise.py): unary, binary, scalar, add_n, clip, cast, identity."""
import math

import numpy as np
import pytest

from ast_hybrid.ops import REGISTRY, get
from optest import rand, run_op, shape_fails

X = rand(2, 3, low=0.1, high=2.0)
Y = rand(2, 3, low=0.5, high=1.5, seed=4)

UNARY_REFERENCES = {
    "relu": lambda v: max(v, 0.0), "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "tanh": math.tanh, "softsign": lambda v: v / (1 + abs(v)), "exp": math.exp,
    "log": math.log, "sqrt": math.sqrt, "rsqrt": lambda v: 1 / math.sqrt(v),
    "square": lambda v: v * v, "abs": abs, "negative": lambda v: -v,
    "sign": lambda v: float(np.sign(v)), "floor": math.floor, "ceil": math.ceil,
    "round": lambda v: float(np.round(v)), "reciprocal": lambda v: 1 / v, "sin": math.sin,
    "cos": math.cos, "log1p": math.log1p, "expm1": math.expm1,
}


@pytest.mark.parametrize("name", sorted(UNARY_REFERENCES))
def test_unary(name):
    x = X if name in ("log", "sqrt", "rsqrt") else X - 1.0
    (out,) = run_op(name, x)
    ref = np.vectorize(UNARY_REFERENCES[name])(x.astype(np.float64))
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_unary_fluent_flags():
    for name in ("exp", "relu", "sigmoid", "tanh", "square", "sqrt", "abs", "log", "sum",
                 "mean", "max", "min", "prod", "norm", "argmax", "transpose", "flatten",
                 "expand_dims", "squeeze", "clip", "softmax", "log_softmax", "slice_axis",
                 "take", "pick", "one_hot", "tile", "repeat", "zeros_like", "ones_like",
                 "split", "swapaxes", "slice", "broadcast_to"):
        assert get(name).fluent and get(name).name == name, name
    assert not get("negative").fluent


BINARY_REFERENCES = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "mod": math.fmod, "power": math.pow, "maximum": max,
    "minimum": min, "hypot": math.hypot, "equal": lambda a, b: float(a == b),
    "not_equal": lambda a, b: float(a != b), "greater": lambda a, b: float(a > b),
    "greater_equal": lambda a, b: float(a >= b), "lesser": lambda a, b: float(a < b),
    "lesser_equal": lambda a, b: float(a <= b),
}


@pytest.mark.parametrize("base", sorted(BINARY_REFERENCES))
def test_broadcast_binary(base):
    a, b = X, Y[:1]
    (out,) = run_op("broadcast_" + base, a, b)
    ref = np.vectorize(BINARY_REFERENCES[base])(a.astype(np.float64),
                                                np.broadcast_to(b, a.shape).astype(np.float64))
    np.testing.assert_allclose(out, ref, rtol=1e-5)


@pytest.mark.parametrize("name", ["elemwise_add", "elemwise_sub", "elemwise_mul",
                                  "elemwise_div"])
def test_elemwise_binary_needs_equal_shapes(name):
    (out,) = run_op(name, X, Y)
    base = name.split("_")[1]
    np.testing.assert_allclose(out, np.vectorize(BINARY_REFERENCES[base])(X, Y), rtol=1e-6)
    shape_fails(name, [(2, 3), (1, 3)], pattern="same shape")


def test_broadcast_mismatch():
    shape_fails("broadcast_add", [(2, 3), (4, 3)], pattern="broadcast")


@pytest.mark.parametrize("name", sorted(n for n, op in REGISTRY.items()
                                        if n.endswith("_scalar") and n == op.name))
def test_scalar_forms(name):
    base = name[1:-len("_scalar")]
    reverse = base.startswith("r") and base[1:] in ("minus", "div", "mod", "power")
    base = base[1:] if reverse else base
    base = {"plus": "add", "minus": "sub"}.get(base, base)
    (out,) = run_op(name, X, scalar=1.5)
    f = BINARY_REFERENCES[base]
    ref = np.vectorize(lambda v: f(1.5, v) if reverse else f(v, 1.5))(X.astype(np.float64))
    np.testing.assert_allclose(out, ref, rtol=1e-5)


def test_activation():
    for act in ("relu", "sigmoid", "tanh", "softrelu", "softsign"):
        (out,) = run_op("Activation", X - 1, act_type=act)
        ref = {"softrelu": lambda v: math.log1p(math.exp(v))}.get(act, UNARY_REFERENCES.get(act))
        np.testing.assert_allclose(out, np.vectorize(ref)(X - 1.0), rtol=1e-5)


def test_add_n():
    arrays = [rand(2, 3, seed=i) for i in range(4)]
    (out,) = run_op("add_n", *arrays)
    np.testing.assert_allclose(out, sum(a.astype(np.float64) for a in arrays), rtol=1e-6)
    assert get("ElementWiseSum") is get("add_n")
    (single,) = run_op("add_n", arrays[0])
    assert single is not arrays[0]
    shape_fails("add_n", [(2, 3), (3, 2)], pattern="same shape")


def test_clip():
    (out,) = run_op("clip", X - 1, a_min=-0.5, a_max=0.3)
    np.testing.assert_array_equal(out, np.vectorize(lambda v: min(max(v, -0.5), 0.3))(X - 1))
    (ints,) = run_op("clip", np.arange(5, dtype=np.int32), a_min=1, a_max=3)
    assert ints.dtype == np.int32 and ints.tolist() == [1, 1, 2, 3, 3]
    shape_fails("clip", [(2, 3)], a_min=1, a_max=0, pattern="greater than")


@pytest.mark.parametrize("dtype", ["float16", "float64", "int32", "uint8"])
def test_cast(dtype):
    (out,) = run_op("Cast", X * 10, dtype=dtype)
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out, (X * 10).astype(dtype))


def test_identity_copies_and_block_grad_passes_through():
    (out,) = run_op("_copy", X)
    assert out is not X and np.shares_memory(out, X) is False
    np.testing.assert_array_equal(out, X)
    (out,) = run_op("stop_gradient", X)
    np.testing.assert_array_equal(out, X)
    assert get("identity") is get("_copy") and get("BlockGrad") is get("stop_gradient")


@pytest.mark.parametrize("scalar", [1.0, 2.0])
def test_smooth_l1(scalar):
    x = (X - 1) * 3
    (out,) = run_op("smooth_l1", x, scalar=scalar)
    s2 = scalar * scalar

    def ref(v):
        return 0.5 * s2 * v * v if abs(v) < 1 / s2 else abs(v) - 0.5 / s2
    np.testing.assert_allclose(out, np.vectorize(ref)(x.astype(np.float64)), rtol=1e-5)
