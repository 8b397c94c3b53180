"""The fused RNN operator: what a traced recurrent layer is. It equals the layer computed
step by step (imperatively and in AST mode) in values and gradients, exports and imports
back, and loads the graphs MXNet 1.9.1 exports (recorded by tools/mxnet_fused_rnn_reference.py)."""
import json
import os

import numpy as np
import pytest

import ast_hybrid as mx
from ast_hybrid import autograd, gluon, nd, sym
from ast_hybrid.gluon import rnn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "tests", "data", "mxnet_fused_rnn_reference.json")) as stream:
    RECORDED = json.load(stream)["layers"]

LAYERS = {"lstm": lambda: rnn.LSTM(5, num_layers=2, bidirectional=True, input_size=3),
          "gru": lambda: rnn.GRU(5, num_layers=2, layout="NTC", input_size=3),
          "rnn_tanh": lambda: rnn.RNN(5, activation="tanh", bidirectional=True, input_size=3),
          "rnn_relu": lambda: rnn.RNN(5, num_layers=2, activation="relu", input_size=3)}


def _run(make, mode, with_states):
    layer = make()
    layer.initialize(mx.init.Uniform(0.5))
    rng = np.random.default_rng(0)
    for param in layer.collect_params().values():     # the same weights in every mode
        param.set_data(nd.array(rng.uniform(-0.5, 0.5, param.shape)))
    if mode:
        layer.hybridize(mode=mode, fallback=False)
    x = nd.array(rng.uniform(-1, 1, (4, 2, 3)))
    states = [s + 0.3 for s in layer.begin_state(4 if layer._layout == "NTC" else 2)]
    arrays = [x] + (states if with_states else [])
    for array in arrays:
        array.attach_grad()
    with autograd.record():
        result = layer(x, states) if with_states else layer(x)
        outputs = list(result[:1]) + list(result[1]) if with_states else [result]
        loss = sum((o * nd.array(np.linspace(-1, 1, o.size).reshape(o.shape))).sum()
                   for o in outputs)
    loss.backward()
    return ([o.asnumpy() for o in outputs], [a.grad.asnumpy() for a in arrays],
            [p.grad().asnumpy() for p in layer.collect_params().values()])


@pytest.mark.parametrize("with_states", [False, True])
@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_the_traced_layer_equals_the_step_by_step_layer(kind, with_states):
    want = _run(LAYERS[kind], None, with_states)
    for mode in ("ast", "trace"):
        got = _run(LAYERS[kind], mode, with_states)
        for what, g_items, w_items in zip(("output", "input grad", "param grad"), got, want):
            for g, w in zip(g_items, w_items):
                np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-6,
                                           err_msg=f"{mode} {what}")


def test_the_operator_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    count = 4 * 3 * (3 + 3 + 2)
    data, params = rng.uniform(-1, 1, (3, 2, 3)), rng.uniform(-0.5, 0.5, count)
    state, cell = rng.uniform(-1, 1, (1, 2, 3)), rng.uniform(-1, 1, (1, 2, 3))
    head = rng.uniform(-1, 1, (3, 2, 3))

    def loss(d, p):
        out = nd.RNN(nd.array(d, dtype="float64"), nd.array(p, dtype="float64"),
                     nd.array(state, dtype="float64"), nd.array(cell, dtype="float64"),
                     state_size=3, num_layers=1, mode="lstm")
        return float((out.asnumpy() * head).sum())
    x, w = nd.array(data, dtype="float64"), nd.array(params, dtype="float64")
    x.attach_grad()
    w.attach_grad()
    with autograd.record():
        out = nd.RNN(x, w, nd.array(state, dtype="float64"), nd.array(cell, dtype="float64"),
                     state_size=3, num_layers=1, mode="lstm")
    out.backward(nd.array(head, dtype="float64"))
    for array, grad, index in ((data, x.grad.asnumpy(), (1, 0, 2)),
                               (params, w.grad.asnumpy(), (17,))):
        step = np.zeros_like(array)
        step[index] = 1e-6
        args = [(data, params), (data, params)]
        plus = loss(*[a + step if a is array else a for a in args[0]])
        minus = loss(*[a - step if a is array else a for a in args[1]])
        assert grad[index] == pytest.approx((plus - minus) / 2e-6, rel=1e-5, abs=1e-8)


def test_a_traced_layer_exports_mxnets_operators_and_imports_back(tmp_path):
    layer = LAYERS["lstm"]()
    layer.initialize()
    x = nd.array(np.random.default_rng(2).uniform(-1, 1, (4, 2, 3)))
    want = layer(x).asnumpy()
    layer.hybridize(mode="trace")
    layer(x)
    layer.export(str(tmp_path / "lstm"))
    graph = json.loads((tmp_path / "lstm-symbol.json").read_text())
    assert {"_rnn_param_concat", "RNN"} <= {node["op"] for node in graph["nodes"]}
    imported = gluon.SymbolBlock.imports(str(tmp_path / "lstm-symbol.json"), ["data"],
                                         str(tmp_path / "lstm-0000.params"))
    np.testing.assert_allclose(imported(x).asnumpy(), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", sorted(RECORDED))
def test_graphs_mxnet_exports_load_and_give_its_outputs(kind):
    # MXNet's hybridized layer takes its zero begin states as inputs: data0 is the sequence,
    # data1 (and data2, an LSTM's cell) the states
    recorded = RECORDED[kind]
    graph = sym.load_json(recorded["graph"])
    inputs = sorted(n for n in graph.list_arguments() if n.startswith("data"))
    block = gluon.SymbolBlock(graph, [sym.var(n) for n in inputs])
    for name, value in recorded["weights"].items():
        block.collect_params()[name].set_data(nd.array(value))
    x = np.array(recorded["input"], dtype=np.float32)
    batch = x.shape[0] if "ntc" in kind else x.shape[1]
    hidden = len(recorded["output"][0][0]) // (2 if "bidirectional" in kind else 1)
    layers = len(graph.list_arguments()) // 4 // (2 if "bidirectional" in kind else 1)
    zeros = nd.zeros((layers * (2 if "bidirectional" in kind else 1), batch, hidden))
    output = block(nd.array(x), *[zeros] * (len(inputs) - 1))
    if isinstance(output, (list, tuple)):
        output = output[0]
    np.testing.assert_allclose(output.asnumpy(), recorded["output"], rtol=1e-5, atol=1e-6)
