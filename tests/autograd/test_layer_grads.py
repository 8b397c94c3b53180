"""Imperative gradients of nn layers (inputs and parameters) against finite differences."""
import numpy as np
import pytest

from ast_hybrid import autograd, nd
from ast_hybrid.gluon import nn


def _layers():
    return [
        ("Dense", lambda: nn.Dense(4, activation="tanh", in_units=6), (3, 2, 3)),
        ("Dense-noflatten", lambda: nn.Dense(3, flatten=False, in_units=4), (2, 3, 4)),
        ("Conv2D", lambda: nn.Conv2D(3, kernel_size=3, padding=1, strides=2, in_channels=2),
         (2, 2, 5, 5)),
        ("Conv1D-groups", lambda: nn.Conv1D(4, kernel_size=2, groups=2, in_channels=2),
         (2, 2, 5)),
        ("BatchNorm", lambda: nn.BatchNorm(in_channels=3, center=True, scale=True), (4, 3, 2)),
        ("LayerNorm", lambda: nn.LayerNorm(in_channels=5), (3, 5)),
        ("MaxPool2D", lambda: nn.MaxPool2D(2), (1, 2, 4, 4)),
        ("AvgPool2D", lambda: nn.AvgPool2D(3, strides=1, padding=1), (1, 2, 3, 3)),
        ("PReLU", lambda: nn.PReLU(), (3, 4)),
    ]


def _check(block, shape, training, seed=0):
    rng = np.random.default_rng(seed)
    block.initialize()
    block.cast("float64")
    for param in block.collect_params().values():
        param.grad_req = param.grad_req       # cast() replaced the arrays: re-attach buffers
        if param.grad_req != "null":
            param.set_data(rng.uniform(-1, 1, param.shape))
    x = nd.array(rng.uniform(-1, 1, shape), dtype=np.float64)
    x.attach_grad()
    with autograd.record(train_mode=training):
        out = block(x)
    head = rng.standard_normal(out.shape)
    out.backward(nd.array(head, dtype=np.float64))

    def objective():
        with autograd.train_mode() if training else autograd.predict_mode():
            return float(np.sum(block(x).asnumpy() * head))

    targets = [("data", x)] + [(k, p.data()) for k, p in block.collect_params().items()
                               if p.grad_req != "null"]
    eps = 1e-6
    for name, array in targets:
        numeric = np.zeros(array.shape)
        flat = array._data.reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            plus = objective()
            flat[j] = old - eps
            minus = objective()
            flat[j] = old
            numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(array.grad.asnumpy(), numeric, rtol=1e-5, atol=1e-6,
                                   err_msg=name)


@pytest.mark.parametrize("name, make, shape", _layers(), ids=[n for n, _, _ in _layers()])
@pytest.mark.parametrize("training", [False, True], ids=["predict", "train"])
def test_layer_gradients_match_finite_differences(name, make, shape, training):
    _check(make(), shape, training)


def test_embedding_gradient_scatters_rows():
    layer = nn.Embedding(5, 3)
    layer.initialize()
    index = nd.array([[0, 2], [2, 4]])
    with autograd.record():
        out = layer(index)
    head = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    out.backward(nd.array(head))
    expected = np.zeros((5, 3), dtype=np.float32)
    np.add.at(expected, [0, 2, 2, 4], head.reshape(4, 3))
    np.testing.assert_allclose(layer.weight.grad().asnumpy(), expected)


@pytest.mark.parametrize("hybridize", [False, True], ids=["imperative", "hybridized"])
def test_batchnorm_fix_gamma_has_zero_gamma_gradient(hybridize):
    layer = nn.BatchNorm(in_channels=2, scale=False)
    layer.initialize()
    assert layer.gamma.grad_req == "null"          # MXNet's: a fixed gamma is not trained
    layer.gamma.grad_req = "write"                 # a buffer, to see what backward gives it
    layer.gamma.grad()[:] = 7.0                    # a stale value that backward must replace
    if hybridize:
        layer.hybridize()
    x = nd.array(np.random.default_rng(0).normal(size=(4, 2)).astype(np.float32))
    with autograd.record():
        y = (layer(x) * nd.array([[1.0, 2.0]])).sum()
    y.backward()
    np.testing.assert_array_equal(layer.gamma.grad().asnumpy(), [0.0, 0.0])
    assert np.abs(layer.beta.grad().asnumpy() - [4.0, 8.0]).max() < 1e-5


def test_parameters_of_a_network_all_get_gradients():
    net = nn.HybridSequential()
    net.add(nn.Dense(5, activation="relu"), nn.Dense(2))
    net.initialize()
    x = nd.array(np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32))
    with autograd.record():
        loss = (net(x) ** 2).sum()
    loss.backward()
    for key, param in net.collect_params().items():
        assert param.grad().shape == param.shape, key
        assert np.abs(param.grad().asnumpy()).sum() > 0, key
