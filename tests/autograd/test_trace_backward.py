"""Trace mode's generated backward programs give the gradients imperative mode gives."""
import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import autograd, nd
from ast_hybrid.compiler.trace import trace
from ast_hybrid.compiler.trace_backward import make_trace_backward
from ast_hybrid.gluon import HybridBlock, nn

import tracegrad


def _data(*shape, seed=0):
    return nd.array(np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32))


class TwoHeads(HybridBlock):
    def __init__(self):
        super().__init__()
        self.dense = nn.Dense(4, in_units=3)
        self.scale = self.params.get("scale", shape=(4,), init="ones")

    def hybrid_forward(self, F, x, scale):
        h = self.dense(x)
        a, b = F.split(h, num_outputs=2, axis=1)
        y = F.broadcast_mul(h, scale) + F.tanh(h) * h
        return y, F.sum(a * 3, axis=1) + b.mean(axis=1)


class SharedWeights(HybridBlock):
    def __init__(self):
        super().__init__()
        self.dense = nn.Dense(3, in_units=3)

    def hybrid_forward(self, F, x):
        return F.softmax(self.dense(self.dense(x)) + F.log_softmax(x))


def _mlp():
    net = nn.HybridSequential()
    net.add(nn.Dense(8, activation="relu", in_units=5), nn.Dense(6, activation="sigmoid"),
            nn.Dense(3))
    return net, (_data(4, 5),)


def _cnn():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(4, 3, padding=1, in_channels=2), nn.BatchNorm(in_channels=4),
            nn.Activation("relu"), nn.MaxPool2D(2), nn.Dropout(0.3), nn.Flatten(),
            nn.Dense(5, in_units=16), nn.LayerNorm(in_channels=5))
    return net, (_data(3, 2, 4, 4),)


def _embedding():
    net = nn.HybridSequential()
    net.add(nn.Embedding(7, 4), nn.Conv1D(3, 2, in_channels=2), nn.GlobalAvgPool1D(),
            nn.PReLU(), nn.Dense(2, in_units=3))
    return net, (nd.array([[1, 2], [6, 0], [3, 3]]),)


CASES = {"mlp": _mlp, "cnn": _cnn, "embedding": _embedding,
         "two_heads": lambda: (TwoHeads(), (_data(2, 3),)),
         "shared": lambda: (SharedWeights(), (_data(2, 3),))}


def _grads(net, run, args, heads, training=True):
    net.collect_params().zero_grad()
    inputs = [a.copy() for a in args]
    if inputs[0].dtype == np.float32:
        inputs[0].attach_grad()
    ast_hybrid.random.seed(5)
    with autograd.record(train_mode=training):
        out = run(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    autograd.backward(outs, [nd.array(h) for h in heads])
    result = {k: p.grad().asnumpy() for k, p in net.collect_params().items()
              if p.grad_req != "null"}
    if inputs[0].grad is not None:
        result["data"] = inputs[0].grad.asnumpy()
    result["outputs"] = [o.asnumpy() for o in outs]
    result["stats"] = {k: p.data().asnumpy() for k, p in net.collect_params().items()
                       if p.grad_req == "null"}
    return result


@pytest.mark.parametrize("training", [True, False], ids=["train", "predict"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_trace_gradients_equal_imperative(name, training):
    net, args = CASES[name]()
    net.initialize()
    out = net(*args)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    rng = np.random.default_rng(1)
    heads = [rng.standard_normal(o.shape).astype(np.float32) for o in outs]
    stats = {k: p.data().asnumpy() for k, p in net.collect_params().items()}
    expected = _grads(net, net, args, heads, training)
    for k, p in net.collect_params().items():    # running statistics back to where they were
        p.set_data(stats[k])
    got = _grads(net, tracegrad.TraceRunner(net, *args), args, heads, training)
    assert set(got) == set(expected)
    for key in expected:
        if key == "outputs":
            for g, w in zip(got[key], expected[key]):
                np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
        elif key == "stats":
            for k in expected[key]:
                np.testing.assert_allclose(got[key][k], expected[key][k], rtol=1e-5, atol=1e-6)
        else:
            np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-5,
                                       err_msg=key)


def test_backward_program_is_readable_and_pruned():
    net, args = _mlp()
    net.initialize()
    net(*args)
    traced = trace(net, args)
    names = traced.data_names + list(traced.params)
    tb = make_trace_backward(traced.outputs, names, "MLP")
    source = tb.source()
    assert "def MLP_recording_forward(training, data" in source
    assert "FullyConnected_grad" in source
    # only the last layer's parameters needed: the first layers are left out
    last = {len(names) - 2, len(names) - 1}
    pruned = tb.backward_program(last).source
    assert pruned.count("vjp(FullyConnected_grad") == 1
    outputs, saved = tb.forward(*[a._data for a in args],
                                *[p.data()._data for p in traced.params.values()])
    grads = tb.gradients(saved, [np.ones_like(outputs[0])], last)
    assert grads[0] is None and grads[-1].shape == (3,)
    np.testing.assert_allclose(grads[-1], [4.0, 4.0, 4.0])


def test_unused_output_gradient_may_be_none():
    net = TwoHeads()
    net.initialize()
    x = _data(2, 3)
    runner = tracegrad.TraceRunner(net, x)
    with autograd.record():
        y, z = runner(x)
    z.backward()
    ref = TwoHeads()
    ref.initialize()
    for (k, p), q in zip(net.collect_params().items(), ref.collect_params().values()):
        q.set_data(p.data())
    with autograd.record():
        _, z2 = ref(x)
    z2.backward()
    for p, q in zip(net.collect_params().values(), ref.collect_params().values()):
        np.testing.assert_allclose(p.grad().asnumpy(), q.grad().asnumpy(), rtol=1e-6)
