"""Layer operators in ops/nn.py (softmax, LeakyReLU, Embedding, FullyConnected, Dropout)."""
import math

import numpy as np
import pytest

from ast_hybrid.ops import get
from optest import infer, rand, run_op, shape_fails

X = rand(2, 3, 4)


def _softmax_ref(x, axis, t):
    e = np.exp((x.astype(np.float64) / t) - np.max(x / t, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("axis, temperature", [(-1, None), (1, None), (0, 2.5)])
def test_softmax_and_log_softmax(axis, temperature):
    x = X * 5
    (sm,) = run_op("softmax", x, axis=axis, temperature=temperature)
    (lsm,) = run_op("log_softmax", x, axis=axis, temperature=temperature)
    ref = _softmax_ref(x, axis, temperature or 1.0)
    np.testing.assert_allclose(sm, ref, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(lsm, np.log(ref), rtol=1e-5, atol=1e-6)


def test_softmax_is_stable_and_takes_dtype():
    (out,) = run_op("softmax", np.array([1000.0, 1000.0], np.float32), dtype="float64")
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [0.5, 0.5])
    shape_fails("softmax", [(2, 3)], axis=2, pattern="axis 2")


def _leaky_ref(x, act_type, slope, gamma=None):
    out = np.empty(x.shape)
    for pos in np.ndindex(*x.shape):
        v = float(x[pos])
        if act_type == "leaky":
            out[pos] = v if v > 0 else slope * v
        elif act_type == "prelu":
            g = gamma[0] if gamma.size == 1 else gamma[pos[1]]
            out[pos] = v if v > 0 else g * v
        elif act_type == "elu":
            out[pos] = v if v > 0 else slope * (math.exp(v) - 1)
        elif act_type == "selu":
            out[pos] = 1.0507009873554805 * (v if v > 0 else 1.6732632423543772 * (math.exp(v) - 1))
        elif act_type == "gelu":
            out[pos] = 0.5 * v * (1 + math.erf(v / math.sqrt(2)))
    return out


@pytest.mark.parametrize("act_type", ["leaky", "elu", "selu", "gelu"])
@pytest.mark.parametrize("slope", [0.25, 0.1])
def test_leaky_relu_family(act_type, slope):
    x = X * 3
    (out,) = run_op("LeakyReLU", x, act_type=act_type, slope=slope)
    np.testing.assert_allclose(out, _leaky_ref(x, act_type, slope), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("gamma_shape", [(3,), (1,)])
def test_prelu(gamma_shape):
    gamma = rand(*gamma_shape, seed=3)
    (out,) = run_op("LeakyReLU", X, gamma, act_type="prelu")
    np.testing.assert_allclose(out, _leaky_ref(X, "prelu", 0, gamma), rtol=1e-6)


def test_prelu_deduces_gamma_and_other_types_take_no_gamma():
    assert infer("LeakyReLU", [(2, 3, 4), None], act_type="prelu")[0][1] == (3,)
    assert get("LeakyReLU").input_names(get("LeakyReLU").parse_attrs({})) == ("data",)
    shape_fails("LeakyReLU", [(2, 3, 4), (4,)], act_type="prelu", pattern="gamma")


def test_embedding():
    weight = rand(3, 4)
    data = np.array([[-1, 5], [1.7, 0]], np.float32)
    (out,) = run_op("Embedding", data, weight, input_dim=3, output_dim=4)
    ref = np.stack([np.stack([weight[min(max(int(i), 0), 2)] for i in row]) for row in data])
    np.testing.assert_array_equal(out, ref)


def test_embedding_deduces_weight():
    in_shapes, out_shapes = infer("Embedding", [(2, 5), None], input_dim=10, output_dim=7)
    assert in_shapes[1] == (10, 7) and out_shapes == [(2, 5, 7)]
    shape_fails("Embedding", [(2, 5), (10, 6)], input_dim=10, output_dim=7,
                pattern=r"weight must have shape \(10, 7\)")


def test_fully_connected():
    x, w, b = rand(2, 3, 4), rand(5, 12, seed=1), rand(5, seed=2)
    (out,) = run_op("FullyConnected", x, w, b, num_hidden=5)
    ref = np.array([[sum(float(x.reshape(2, -1)[n, k]) * float(w[j, k]) for k in range(12))
                     + b[j] for j in range(5)] for n in range(2)])
    np.testing.assert_allclose(out, ref, rtol=1e-5)
    assert infer("FullyConnected", [(2, 3, 4), None, None], num_hidden=5)[0][1:] == [(5, 12), (5,)]
    shape_fails("FullyConnected", [(2, 3), (5, 4)], num_hidden=5)


def test_dropout_modes():
    x = np.ones((200, 50), np.float32)
    (out,) = run_op("Dropout", x, p=0.5, training=False)
    np.testing.assert_array_equal(out, x)
    (out,) = run_op("Dropout", x, p=0.5, training=True)
    assert set(np.unique(out)) <= {0.0, 2.0} and 0.4 < (out == 0).mean() < 0.6
