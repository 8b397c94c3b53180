"""Through hybridize(): gradients and five optimizer steps equal imperative mode in trace and
AST mode."""
import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import autograd, gluon, nd
from ast_hybrid.gluon import nn

MODES = ["imperative", "trace", "ast"]


def _data(*shape, seed=0):
    return nd.array(np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32))


LAYERS = {
    "Dense": (lambda: nn.Dense(4, activation="relu", in_units=6), lambda: _data(3, 6)),
    "Conv2D": (lambda: nn.Conv2D(3, 3, padding=1, strides=2, in_channels=2),
               lambda: _data(2, 2, 5, 5)),
    "Conv1D": (lambda: nn.Conv1D(4, 2, dilation=2, in_channels=3), lambda: _data(2, 3, 7)),
    "BatchNorm": (lambda: nn.BatchNorm(in_channels=3), lambda: _data(4, 3, 2)),
    "LayerNorm": (lambda: nn.LayerNorm(in_channels=5), lambda: _data(3, 5)),
    "Embedding": (lambda: nn.Embedding(6, 3), lambda: nd.array([[1, 5], [0, 1]])),
    "MaxPool2D": (lambda: nn.MaxPool2D(2), lambda: _data(1, 2, 4, 4)),
    "AvgPool1D": (lambda: nn.AvgPool1D(3, padding=1), lambda: _data(2, 2, 5)),
    "GlobalMaxPool2D": (lambda: nn.GlobalMaxPool2D(), lambda: _data(2, 3, 3, 3)),
    "Dropout": (lambda: nn.Dropout(0.4), lambda: _data(6, 5)),
    "PReLU": (lambda: nn.PReLU(), lambda: _data(3, 4)),
    "ELU": (lambda: nn.ELU(), lambda: _data(3, 4)),
    "Flatten": (lambda: nn.Flatten(), lambda: _data(2, 3, 2)),
}


def _run_layer(make, x, mode):
    ast_hybrid.random.seed(0)
    with ast_hybrid.name.NameManager():    # the same parameter names in every mode
        block = make()
    block.initialize(ast_hybrid.init.Xavier())
    block(x)
    run = block
    if mode != "imperative":
        block.hybridize(mode=mode, fallback=False)
    inputs = x.copy()
    if inputs.dtype == np.float32:
        inputs.attach_grad()
    ast_hybrid.random.seed(3)
    with autograd.record():
        out = run(inputs)
    head = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    out.backward(nd.array(head))
    grads = {k: p.grad().asnumpy() for k, p in block.collect_params().items()
             if p.grad_req != "null"}
    if inputs.grad is not None:
        grads["data"] = inputs.grad.asnumpy()
    return out.asnumpy(), grads


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_gradients_equal_in_every_mode(name):
    make, data = LAYERS[name]
    x = data()
    out0, grads0 = _run_layer(make, x, "imperative")
    for mode in MODES[1:]:
        out, grads = _run_layer(make, x, mode)
        np.testing.assert_allclose(out, out0, rtol=1e-5, atol=1e-6, err_msg=mode)
        assert set(grads) == set(grads0), mode
        for key in grads0:
            np.testing.assert_allclose(grads[key], grads0[key], rtol=1e-5, atol=1e-5,
                                       err_msg=f"{mode} {key}")


def _mlp():
    net = nn.HybridSequential()
    net.add(nn.Dense(32, activation="relu"), nn.BatchNorm(), nn.Dropout(0.3),
            nn.Dense(16, activation="tanh"), nn.Dense(3))
    return net


def _cnn():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(4, 3, padding=1, activation="relu"), nn.MaxPool2D(2),
            nn.BatchNorm(), nn.Flatten(), nn.Dense(3))
    return net


@pytest.mark.parametrize("optimizer, params", [
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-3}),
    ("nag", {"learning_rate": 0.05, "momentum": 0.9}),
    ("adam", {"learning_rate": 0.01, "wd": 1e-4}),
    ("rmsprop", {"learning_rate": 0.01}),
])
@pytest.mark.parametrize("model, shape", [(_mlp, (8, 6)), (_cnn, (4, 2, 6, 6))],
                         ids=["mlp", "cnn"])
def test_five_steps_same_parameters_in_every_mode(model, shape, optimizer, params):
    rng = np.random.default_rng(7)
    x = nd.array(rng.standard_normal(shape).astype(np.float32))
    y = nd.array(rng.integers(0, 3, shape[0]).astype(np.float32))
    results = {}
    for mode in MODES:
        ast_hybrid.random.seed(11)
        with ast_hybrid.name.NameManager():    # the same parameter names in every mode
            net = model()
        net.initialize(ast_hybrid.init.Xavier())
        net(x)
        run = net
        if mode != "imperative":
            net.hybridize(mode=mode, fallback=False)
        trainer = gluon.Trainer(net.collect_params(), optimizer, dict(params))
        loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
        losses = []
        for _ in range(5):
            with autograd.record():
                loss = loss_fn(run(x), y)
            loss.backward()
            trainer.step(x.shape[0])
            losses.append(float(loss.mean().asscalar()))
        results[mode] = (losses, {k: p.data().asnumpy()
                                  for k, p in net.collect_params().items()})
    losses0, params0 = results["imperative"]
    for mode in MODES[1:]:
        losses, values = results[mode]
        np.testing.assert_allclose(losses, losses0, rtol=1e-5, err_msg=mode)
        for key in params0:
            np.testing.assert_allclose(values[key], params0[key], rtol=1e-5, atol=1e-5,
                                       err_msg=f"{mode} {key}")
