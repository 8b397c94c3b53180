"""Record MXNet 1.9.1's test_utils behaviour (default tolerances, which comparisons pass, the
messages and printed lines of those that fail, the symbol checks, random shapes and arrays,
environment) into a JSON file that tests/test_test_utils.py reads without mxnet.

Run under MXNet's own interpreter, from the repository root:
    /tmp/mx/bin/python tools/mxnet_test_utils_reference.py \\
        tests/data/mxnet_test_utils_reference.json
The test imports this file's functions and runs them with ast_hybrid in place of mxnet.
"""
import contextlib
import io
import json
import os
import sys

import numpy as np

NAN, INF = float("nan"), float("inf")

# an operand: ("np" or "nd", nested list, dtype) or ("py", a Python number)
COMPARISONS = [
    ("assert_almost_equal", ("np", [1.0, 2.0], "float32"), ("np", [1.0, 2.0], "float32"), {}),
    ("assert_almost_equal", ("np", [1.0, 2.0], "float32"), ("np", [1.0005, 2.0], "float32"),
     {}),
    ("assert_almost_equal", ("np", [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "float32"),
     ("np", [[1.0, 2.1, 3.0], [4.5, 5.0, 6.0]], "float32"), {}),
    ("assert_almost_equal", ("np", [1.0, 2.0], "float64"), ("np", [1.000001, 2.0], "float64"),
     {}),
    ("assert_almost_equal", ("np", [1.0, 2.0], "float64"), ("np", [1.0001, 2.0], "float64"),
     {}),
    ("assert_almost_equal", ("np", [1.0, 2.0], "float16"), ("np", [1.05, 2.0], "float16"), {}),
    ("assert_almost_equal", ("np", [1.0, 2.0], "float16"), ("np", [1.5, 2.0], "float16"), {}),
    ("assert_almost_equal", ("np", [1.0, 2.0], "float16"), ("np", [1.05, 2.0], "float32"), {}),
    ("assert_almost_equal", ("np", [1.0, 2.0], "float64"), ("np", [1.0005, 2.0], "float32"),
     {}),
    ("assert_almost_equal", ("np", [1, 2], "int32"), ("np", [1, 2], "int32"), {}),
    ("assert_almost_equal", ("np", [1, 2], "int64"), ("np", [1, 3], "int64"), {}),
    ("assert_almost_equal", ("np", [1, 2], "int16"), ("np", [1, 2], "int16"), {}),
    ("assert_almost_equal", ("np", [True, False], "bool"), ("np", [True, False], "bool"), {}),
    ("assert_almost_equal", ("np", [True, False], "bool"), ("np", [True, True], "bool"), {}),
    ("assert_almost_equal", ("np", [NAN, 1.0], "float32"), ("np", [NAN, 1.0], "float32"), {}),
    ("assert_almost_equal", ("np", [NAN, 1.0], "float32"), ("np", [NAN, 1.0], "float32"),
     {"equal_nan": True}),
    ("assert_almost_equal", ("np", [INF, 1.0], "float32"), ("np", [INF, 1.0], "float32"), {}),
    ("assert_almost_equal", ("np", [INF, 1.0], "float32"), ("np", [-INF, 1.0], "float32"), {}),
    ("assert_almost_equal", ("py", 1.0), ("py", 1.000001), {}),
    ("assert_almost_equal", ("py", 1.0), ("py", 1.0001), {}),
    ("assert_almost_equal", ("py", 3), ("py", 3), {}),
    ("assert_almost_equal", ("py", 3), ("py", 4), {}),
    ("assert_almost_equal", ("np", 1.0, "float32"), ("np", 1.5, "float32"), {}),
    ("assert_almost_equal", ("np", [[1.0, 2.0], [3.0, 4.0]], "float32"),
     ("np", [1.0, 2.0], "float32"), {}),
    ("assert_almost_equal", ("np", [[1.0, 2.0], [1.0, 2.0]], "float32"),
     ("np", [1.0, 2.0], "float32"), {}),
    ("assert_almost_equal", ("np", [[1.0, 2.0], [1.0, 2.0]], "float32"),
     ("np", [1.0, 2.0], "float32"), {"use_broadcast": False}),
    ("assert_almost_equal", ("np", [1.0, 2.0], "float32"), ("np", [1.05, 2.0], "float32"),
     {"rtol": 0.1, "atol": 0}),
    ("assert_almost_equal", ("np", [1.0, 2.0], "float32"), ("np", [1.05, 2.0], "float32"),
     {"rtol": {"float32": 0.1}, "atol": {"float64": 1.0}}),
    ("assert_almost_equal", ("np", [0.0] * 12, "float32"),
     ("np", [float(i) for i in range(12)], "float32"), {"mismatches": (2, 3)}),
    ("assert_almost_equal", ("np", [0.0] * 12, "float32"),
     ("np", [float(i) for i in range(12)], "float32"), {"mismatches": (3, 0)}),
    ("assert_almost_equal", ("np", [1.0, 2.0, 3.0], "float32"),
     ("np", [1.0, 2.5, 3.0], "float32"), {"names": ("got", "want")}),
    ("assert_almost_equal", ("np", [], "float32"), ("np", [], "float32"), {}),
    ("assert_almost_equal", ("nd", [1.0, 2.0], "float32"), ("nd", [1.0005, 2.0], "float32"),
     {}),
    ("assert_almost_equal", ("nd", [1.0, 2.0], "float32"), ("nd", [1.5, 2.0], "float32"), {}),
    ("assert_almost_equal", ("nd", [1.0, 2.0], "float32"), ("np", [1.5, 2.0], "float32"), {}),
    ("assert_almost_equal", ("nd", [1.0, 2.0], "float32"), ("nd", [1.00001, 2.0], "float64"),
     {}),
    ("assert_almost_equal", ("nd", [NAN, 2.0], "float32"), ("nd", [NAN, 2.0], "float32"),
     {"equal_nan": True}),
    ("assert_almost_equal", ("nd", [INF, 2.0], "float32"), ("nd", [INF, 2.0], "float32"), {}),
    ("assert_allclose", ("np", [1.0, 2.0], "float64"), ("np", [1.0, 2.0 + 1e-8], "float64"),
     {}),
    ("assert_allclose", ("np", [1.0, 2.0], "float64"), ("np", [1.0, 2.0 + 1e-5], "float64"),
     {}),
    ("assert_allclose", ("np", [NAN, 2.0], "float32"), ("np", [NAN, 2.0], "float32"), {}),
    ("assert_almost_equal_ignore_nan", ("np", [NAN, 2.0], "float32"),
     ("np", [5.0, 2.0], "float32"), {}),
    ("assert_almost_equal_ignore_nan", ("np", [NAN, 2.0], "float32"),
     ("np", [5.0, 3.0], "float32"), {}),
    ("assert_almost_equal_with_err", ("np", [1.0, 2.0, 3.0, 4.0], "float32"),
     ("np", [1.0, 2.0, 3.0, 9.0], "float32"), {"etol": 0.3}),
    ("assert_almost_equal_with_err", ("np", [1.0, 2.0, 3.0, 4.0], "float32"),
     ("np", [1.0, 2.0, 8.0, 9.0], "float32"), {"etol": 0.3}),
    ("almost_equal", ("np", [1.0, 2.0], "float32"), ("np", [1.0001, 2.0], "float32"), {}),
    ("almost_equal", ("np", [1.0, 2.0], "float32"), ("np", [1.000001, 2.0], "float32"), {}),
    ("almost_equal", ("np", [1.0, 2.0], "float32"), ("np", [1.05, 2.0], "float32"),
     {"rtol": 0.1}),
    ("almost_equal", ("np", [NAN], "float32"), ("np", [NAN], "float32"), {"equal_nan": True}),
    ("almost_equal", ("np", [[1.0], [1.0]], "float32"), ("np", [1.0], "float32"),
     {"use_broadcast": False}),
    ("same", ("np", [1.0, 2.0], "float32"), ("np", [1.0, 2.0], "float32"), {}),
    ("same", ("np", [1.0, 2.0], "float32"), ("np", [1.0, 2.5], "float32"), {}),
    ("same", ("np", [1.0, 2.0], "float32"), ("np", [[1.0, 2.0]], "float32"), {}),
    ("same", ("np", [1, 2], "int32"), ("np", [1.0, 2.0], "float64"), {}),
]


def _operand(mx, spec):
    kind = spec[0]
    if kind == "py":
        return spec[1]
    array = np.array(spec[1], dtype=spec[2])
    return mx.nd.array(array, dtype=spec[2]) if kind == "nd" else array


def _tolerance_keys(value):
    return {np.dtype(k): v for k, v in value.items()} if isinstance(value, dict) else value


def outcome(call, *args, **kwargs):
    """[what it returned or 'raised', its value (a JSON value) or exception type, message,
    what it printed]."""
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            value = call(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 (the recorded outcome is the point)
        return ["raised", type(error).__name__, str(error), printed.getvalue()]
    if isinstance(value, (np.bool_, bool)):
        value = bool(value)
    return ["returned", value if value is None or isinstance(value, bool) else repr(value),
            "", printed.getvalue()]


def comparisons(mx):
    results = []
    for name, a, b, kwargs in COMPARISONS:
        kwargs = {k: _tolerance_keys(v) for k, v in kwargs.items()}
        with np.printoptions():     # MXNet leaves its message's print options set
            results.append(outcome(getattr(mx.test_utils, name), _operand(mx, a),
                                   _operand(mx, b), **kwargs))
    return results


def tolerances(mx):
    tu = mx.test_utils

    def by_name(table):
        return {np.dtype(k).name: v for k, v in table.items()}
    return {"rtols": by_name(tu.default_rtols()), "atols": by_name(tu.default_atols()),
            "numeric_eps": by_name(tu.default_numeric_eps()),
            "get_tols": [list(tu.get_tols(np.zeros(1, a), np.zeros(1, b), None, None))
                         for a, b in [("float16", "float32"), ("float32", "float64"),
                                      ("int32", "float32"), ("bool", "bool")]],
            "get_tols_python": [list(tu.get_tols(1.0, 2, None, None)),
                                list(tu.get_tols(1, 2, None, None)),
                                list(tu.get_tols(1.0, np.float32(1), 0.5, None))],
            "get_rtol": [tu.get_rtol(), tu.get_rtol(0.3)],
            "get_atol": [tu.get_atol(), tu.get_atol(0.3)],
            "get_etol": [tu.get_etol(), tu.get_etol(0.2)]}


def random_helpers(mx):
    """The shapes and dtypes the random helpers give, for a fixed seed (numpy's generator)."""
    tu = mx.test_utils
    np.random.seed(7)
    record = {"shape_2d": [int(d) for d in tu.rand_shape_2d()],
              "shape_3d": [int(d) for d in tu.rand_shape_3d(3, 4, 5)],
              "shape_nd": [int(d) for d in tu.rand_shape_nd(4, dim=3)],
              "shape_nd_zero": [int(d) for d in tu.rand_shape_nd(6, dim=1,
                                                                 allow_zero_size=True)],
              "shape_nd_type": type(tu.rand_shape_nd(2)).__name__}
    np.random.seed(3)
    array = tu.rand_ndarray((2, 3))
    record["rand_ndarray"] = {"shape": list(array.shape), "dtype": np.dtype(array.dtype).name,
                              "values": array.asnumpy().tolist()}
    record["rand_ndarray_float64"] = np.dtype(tu.rand_ndarray((2,), dtype="float64").dtype).name
    record["rand_ndarray_scalar_shape"] = list(tu.rand_ndarray(()).shape)
    uniform = tu.random_uniform_arrays((2,), (3,), low=-1, high=1)
    record["random_uniform_arrays"] = [type(uniform).__name__, len(uniform),
                                       [list(u.shape) for u in uniform],
                                       bool(all((-1 <= u).all() and (u < 1).all()
                                                for u in uniform))]
    record["random_arrays_one"] = type(tu.random_arrays((2,))).__name__
    record["default_context"] = str(tu.default_context())
    return record


def environment(mx):
    """What `environment` sets and restores; its error for a lone name."""
    env = mx.test_utils.environment
    name = "AST_HYBRID_TEST_UTILS_VARIABLE"
    record = []
    os.environ.pop(name, None)
    with env(name, "1"):
        record.append(os.environ.get(name))
    record.append(os.environ.get(name))
    os.environ[name] = "before"
    with env({name: None}):
        record.append(os.environ.get(name))
    record.append(os.environ.get(name))
    try:
        with env({name: "inside"}):
            record.append(os.environ.get(name))
            raise KeyError("body")
    except KeyError:
        record.append(os.environ.get(name))
    del os.environ[name]
    record.append(outcome(lambda: env(name).__enter__()))
    return record


def _fully_connected(mx):
    data = mx.sym.var("data")
    return mx.sym.FullyConnected(data, num_hidden=3, name="fc")


def symbol_checks(mx):
    """Pass or fail of the symbol checks on right and wrong gradients and expectations."""
    tu, sym = mx.test_utils, mx.sym
    a, b = sym.var("a"), sym.var("b")
    np.random.seed(0)
    x = np.random.uniform(-1, 1, (2, 3))
    y = np.random.uniform(-1, 1, (2, 3))
    w = np.random.uniform(-1, 1, (3, 3))
    bias = np.random.uniform(-1, 1, (3,))
    record = {
        "numeric_product": outcome(tu.check_numeric_gradient, a * b, [x, y]),
        "numeric_tanh_dict": outcome(tu.check_numeric_gradient, sym.tanh(a) + b,
                                     {"a": x, "b": y}),
        "numeric_fc": outcome(tu.check_numeric_gradient, _fully_connected(mx), [x, w, bias]),
        "numeric_float64": outcome(tu.check_numeric_gradient, sym.sin(a) * b, [x, y],
                                   dtype=np.float64),
        "numeric_grad_nodes": outcome(tu.check_numeric_gradient, sym.BlockGrad(a) * b, [x, y],
                                      grad_nodes=["b"]),
        "numeric_add": outcome(tu.check_numeric_gradient, a * b, [x, y],
                               grad_nodes={"a": "add", "b": "write"}),
    }
    blocked = outcome(tu.check_numeric_gradient, sym.BlockGrad(a) * b, [x, y])
    record["numeric_blocked"] = blocked[:2] + [blocked[2].split("\n")[1][:5],
                                               "NUMERICAL_a" in blocked[2],
                                               "BACKWARD_a" in blocked[2]]
    record["numeric_bad_location"] = outcome(tu.check_numeric_gradient, a * b, {"a": x})
    record["numeric_small_eps"] = outcome(tu.check_numeric_gradient, a * b, [x, y],
                                          numeric_eps=1e-6)
    product = x.astype(np.float32) * y.astype(np.float32)
    record["forward_right"] = outcome(lambda: tu.check_symbolic_forward(a * b, [x, y],
                                                                        [product]) and None)
    times = a * b
    record["forward_dict"] = outcome(lambda: tu.check_symbolic_forward(
        times, {"a": x, "b": y}, {times.list_outputs()[0]: product}) and None)
    wrong = outcome(tu.check_symbolic_forward, a * b, [x, y], [product + 1])
    record["forward_wrong"] = wrong[:2] + ["EXPECTED__mul" in wrong[2] or
                                           "EXPECTED_" in wrong[2]]
    head = np.ones((2, 3))
    record["backward_right"] = outcome(lambda: tu.check_symbolic_backward(
        a * b, [x, y], [head], [y, x]) and None)
    record["backward_add"] = outcome(lambda: tu.check_symbolic_backward(
        a * b, [x, y], [head], {"a": y, "b": x}, grad_req="add") and None)
    wrong = outcome(tu.check_symbolic_backward, a * b, [x, y], [head], [x, y])
    record["backward_wrong"] = wrong[:2] + ["EXPECTED_a" in wrong[2],
                                            "BACKWARD_a" in wrong[2]]
    fc = _fully_connected(mx)
    configs = [{"ctx": mx.cpu(0), "data": (2, 3), "type_dict": {"data": np.float64}},
               {"ctx": mx.cpu(0), "data": (2, 3), "type_dict": {"data": np.float32}}]
    np.random.seed(1)
    truth = tu.check_consistency(fc, configs)
    record["consistency"] = {"keys": sorted(truth),
                             "dtypes": sorted({np.dtype(v.dtype).name for v in truth.values()
                                               if v is not None})}
    np.random.seed(1)
    record["consistency_values"] = {k: v.asnumpy().tolist()
                                    for k, v in sorted(tu.check_consistency(fc,
                                                                            configs).items())}
    record["consistency_one"] = outcome(tu.check_consistency, fc, configs[:1])
    record["simple_forward"] = np.asarray(tu.simple_forward(a * b, a=x, b=y)).tolist()
    return record


def main(path):
    import mxnet as mx
    reference = {"mxnet": mx.__version__, "comparisons": comparisons(mx),
                 "tolerances": tolerances(mx), "random_helpers": random_helpers(mx),
                 "environment": environment(mx), "symbol_checks": symbol_checks(mx)}
    with open(path, "w") as stream:
        json.dump(reference, stream, indent=1)
        stream.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
