"""Creation operators and samplers (ops/creation.py)."""
import numpy as np
import pytest

from ast_hybrid.ops import get, random_state
from optest import infer, rand, run_op, shape_fails


@pytest.mark.parametrize("name, attrs, expected", [
    ("_zeros", {"shape": (2, 3)}, np.zeros((2, 3), np.float32)),
    ("_ones", {"shape": (4,), "dtype": "int32"}, np.ones(4, np.int32)),
    ("_full", {"shape": (2, 2), "value": 2.5}, np.full((2, 2), 2.5, np.float32)),
    ("_full", {"shape": "(3,)", "value": "7", "dtype": "float64"}, np.full(3, 7.0)),
])
def test_constant_creation(name, attrs, expected):
    op = get(name)
    assert op.input_names(op.parse_attrs(attrs)) == ()
    (out,) = run_op(name, **attrs)
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("attrs, expected", [
    ({"start": 5}, [0, 1, 2, 3, 4]),
    ({"start": 2, "stop": 11, "step": 3, "repeat": 2}, [2, 2, 5, 5, 8, 8]),
    ({"start": 5, "stop": 1, "step": -1.5}, [5, 3.5, 2]),
    ({"start": 0, "stop": 1, "step": 0.3}, [0, 0.3, 0.6, 0.9]),
    ({"start": 3, "stop": 1}, []),
])
def test_arange(attrs, expected):
    (out,) = run_op("_arange", **attrs)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np.array(expected, np.float32), rtol=1e-6)


def test_arange_int_and_errors():
    (out,) = run_op("_arange", start=0, stop=5, dtype="int32")
    assert out.dtype == np.int32 and out.tolist() == [0, 1, 2, 3, 4]
    shape_fails("_arange", [], start=0, stop=5, step=0, pattern="step cannot be 0")


def test_random_samplers_use_the_shared_generator():
    random_state.seed(7)
    (a,) = run_op("_random_normal", loc=1.0, scale=2.0, shape=(2000,))
    (u,) = run_op("_random_uniform", low=-1.0, high=3.0, shape=(2000,))
    random_state.seed(7)
    (a2,) = run_op("_random_normal", loc=1.0, scale=2.0, shape=(2000,))
    np.testing.assert_array_equal(a, a2)
    assert a.dtype == np.float32 and u.dtype == np.float32
    assert abs(a.mean() - 1.0) < 0.2 and abs(a.std() - 2.0) < 0.2
    assert u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.2
    (d,) = run_op("_random_uniform", shape=(3,), dtype="float64")
    assert d.dtype == np.float64


def test_like_operators():
    x = rand(2, 3)
    (z,) = run_op("zeros_like", x)
    (o,) = run_op("ones_like", x)
    np.testing.assert_array_equal(z, np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(o, np.ones((2, 3), np.float32))
    assert get("zeros_like").fluent


def test_bad_shape_and_dtype():
    shape_fails("_zeros", [], shape=(2, -1), pattern="negative")
    from ast_hybrid.ops import OpError
    with pytest.raises(OpError, match="_zeros.*dtype"):
        infer("_zeros", [], shape=(2,), dtype="complex")


def test_linspace_and_eye():
    (out,) = run_op("_linspace", start=0, stop=1, num=5, endpoint=False)
    np.testing.assert_allclose(out, [0, 0.2, 0.4, 0.6, 0.8], rtol=1e-6)
    assert out.dtype == np.float32
    np.testing.assert_allclose(run_op("_linspace", start=2, stop=3, num=3)[0], [2, 2.5, 3])
    np.testing.assert_array_equal(run_op("_eye", N=2, M=3, k=1)[0], [[0, 1, 0], [0, 0, 1]])
    (out,) = run_op("_eye", N=3, dtype="int32")
    assert out.dtype == np.int32 and out.tolist() == np.eye(3).tolist()
