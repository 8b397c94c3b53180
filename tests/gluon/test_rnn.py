"""gluon.rnn: cells and layers against plain numpy, imperative vs AST mode (outputs and
gradients), a new sequence length without recompiling, trace mode's refusal, and MXNet 1.9.1
parity (numbers recorded by tools/mxnet_rnn_reference.py)."""
import json
import os

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import autograd, nd
from ast_hybrid.gluon import nn, rnn

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "data", "mxnet_rnn_reference.json")


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# ----- plain numpy references (MXNet's gate order: LSTM i, f, g, o; GRU r, z, n)
def np_step(mode, x, h, c, wi, wh, bi, bh):
    i2h = x @ wi.T + bi
    h2h = h @ wh.T + bh
    if mode == "lstm":
        i, f, g, o = np.split(i2h + h2h, 4, axis=1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        return _sigmoid(o) * np.tanh(c), c
    if mode == "gru":
        ir, iz, in_ = np.split(i2h, 3, axis=1)
        hr, hz, hn = np.split(h2h, 3, axis=1)
        r, z = _sigmoid(ir + hr), _sigmoid(iz + hz)
        n = np.tanh(in_ + r * hn)
        h = (1 - z) * n + z * h
        return h, h
    h = np.maximum(i2h + h2h, 0) if mode == "rnn_relu" else np.tanh(i2h + h2h)
    return h, h


def np_layer(mode, params, x, num_layers, dirs, h0=None, c0=None, layout="TNC"):
    """x in `layout`; returns outputs (same layout), h (L*D, N, H), c."""
    if layout == "NTC":
        x = x.transpose(1, 0, 2)
    length, batch = x.shape[:2]
    hidden = params["l0_h2h_weight"].shape[1]
    hs, cs = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            p = "lr"[d] + str(layer) + "_"
            index = layer * dirs + d
            h = h0[index] if h0 is not None else np.zeros((batch, hidden), np.float32)
            c = c0[index] if c0 is not None else np.zeros((batch, hidden), np.float32)
            steps = range(length - 1, -1, -1) if d else range(length)
            out = [None] * length
            for t in steps:
                h, c = np_step(mode, x[t], h, c, params[p + "i2h_weight"],
                               params[p + "h2h_weight"], params[p + "i2h_bias"],
                               params[p + "h2h_bias"])
                out[t] = h
            outs.append(np.stack(out))
            hs.append(h)
            cs.append(c)
        x = np.concatenate(outs, axis=2)
    if layout == "NTC":
        x = x.transpose(1, 0, 2)
    return x, np.stack(hs), np.stack(cs)


def _numpy_params(block):
    """The values by MXNet's names without the block's prefix (`l0_i2h_weight`)."""
    return {k[len(block.prefix):]: p.data().asnumpy() for k, p in block.collect_params().items()}


def _init(block, seed=0):
    block.initialize(ast_hybrid.init.Uniform(0.5))
    return block


LAYERS = {
    "RNN-relu": (lambda **kw: rnn.RNN(5, **kw), "rnn_relu"),
    "RNN-tanh": (lambda **kw: rnn.RNN(5, activation="tanh", **kw), "rnn_tanh"),
    "LSTM": (lambda **kw: rnn.LSTM(5, **kw), "lstm"),
    "GRU": (lambda **kw: rnn.GRU(5, **kw), "gru"),
}
CONFIGS = [dict(), dict(num_layers=2), dict(bidirectional=True),
           dict(num_layers=2, bidirectional=True, layout="NTC")]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(map(str, c.values())) or "1")
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_matches_numpy_in_imperative_and_ast_mode(name, config):
    make, mode = LAYERS[name]
    layer = _init(make(**config))
    layout = config.get("layout", "TNC")
    dirs = 2 if config.get("bidirectional") else 1
    num_layers = config.get("num_layers", 1)
    x = _rand(4, 3, 6) if layout == "TNC" else _rand(3, 4, 6)
    out = layer(nd.array(x))                            # deferred input size: 6
    params = _numpy_params(layer)
    assert params["l0_i2h_weight"].shape == (layer._gates * 5, 6)
    want, want_h, want_c = np_layer(mode, params, x, num_layers, dirs, layout=layout)
    np.testing.assert_allclose(out.asnumpy(), want, rtol=1e-5, atol=1e-6)
    # given states: (outputs, states)
    batch = x.shape[1] if layout == "TNC" else x.shape[0]
    states = [nd.array(_rand(num_layers * dirs, batch, 5, seed=s)) for s in
              range(2 if mode == "lstm" else 1)]
    h0 = states[0].asnumpy()
    c0 = states[1].asnumpy() if mode == "lstm" else None
    want2, want2_h, want2_c = np_layer(mode, params, x, num_layers, dirs, h0, c0, layout)
    out2, new_states = layer(nd.array(x), states)
    np.testing.assert_allclose(out2.asnumpy(), want2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new_states[0].asnumpy(), want2_h, rtol=1e-5, atol=1e-6)
    if mode == "lstm":
        np.testing.assert_allclose(new_states[1].asnumpy(), want2_c, rtol=1e-5, atol=1e-6)
    assert len(new_states) == (2 if mode == "lstm" else 1)
    layer.hybridize(fallback=False)
    np.testing.assert_allclose(layer(nd.array(x)).asnumpy(), want, rtol=1e-5, atol=1e-6)
    out3, states3 = layer(nd.array(x), states)
    np.testing.assert_allclose(out3.asnumpy(), want2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(states3[0].asnumpy(), want2_h, rtol=1e-5, atol=1e-6)


def test_parameter_names_and_shapes_are_mxnets():
    layer = rnn.LSTM(4, num_layers=2, bidirectional=True, input_size=3)
    shapes = {k: p.shape for k, p in layer.collect_params().items()}
    assert list(shapes) == [f"lstm0_{d}{i}_{w}" for i in range(2) for d in "lr"
                            for w in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias")]
    assert shapes["lstm0_l0_i2h_weight"] == (16, 3) and shapes["lstm0_r1_i2h_weight"] == (16, 8)
    assert shapes["lstm0_l1_h2h_weight"] == (16, 4) and shapes["lstm0_l0_h2h_bias"] == (16,)
    cell = rnn.GRUCell(6)
    assert {k[len(cell.prefix):]: p.shape for k, p in cell.collect_params().items()} == {
        "i2h_weight": (18, 0), "h2h_weight": (18, 6), "i2h_bias": (18,), "h2h_bias": (18,)}
    assert layer.state_info(2)[0]["shape"] == (4, 2, 4)
    assert [s.shape for s in layer.begin_state(2)] == [(4, 2, 4), (4, 2, 4)]


def test_new_sequence_length_runs_without_recompiling():
    layer = _init(rnn.GRU(3, num_layers=2, input_size=4))
    layer.hybridize(fallback=False)
    for length in (2, 7, 1):
        x = _rand(length, 2, 4, seed=length)
        want, _, _ = np_layer("gru", _numpy_params(layer), x, 2, 1)
        np.testing.assert_allclose(layer(nd.array(x)).asnumpy(), want, rtol=1e-5, atol=1e-6)
    assert len(layer._programs) == 1


CELLS = {"RNNCell": (lambda: rnn.RNNCell(4), "rnn_tanh"),
         "RNNCell-relu": (lambda: rnn.RNNCell(4, activation="relu"), "rnn_relu"),
         "LSTMCell": (lambda: rnn.LSTMCell(4), "lstm"),
         "GRUCell": (lambda: rnn.GRUCell(4), "gru")}


@pytest.mark.parametrize("name", sorted(CELLS))
def test_cell_step_and_unroll_match_numpy(name):
    make, mode = CELLS[name]
    cell = _init(make())
    x = _rand(6, 3, 5)           # NTC
    states = cell.begin_state(batch_size=6)
    assert [s.shape for s in states] == [(6, 4)] * (2 if mode == "lstm" else 1)
    out, new = cell(nd.array(x[:, 0]), states)
    p = _numpy_params(cell)
    weights = [p["i2h_weight"], p["h2h_weight"], p["i2h_bias"], p["h2h_bias"]]
    zeros = np.zeros((6, 4), np.float32)
    h, c = np_step(mode, x[:, 0], zeros, zeros, *weights)
    np.testing.assert_allclose(out.asnumpy(), h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new[-1].asnumpy(), c if mode == "lstm" else h, rtol=1e-5,
                               atol=1e-6)
    outs, last = cell.unroll(3, nd.array(x), layout="NTC", merge_outputs=True)
    h, c = zeros, zeros
    want = []
    for t in range(3):
        h, c = np_step(mode, x[:, t], h, c, *weights)
        want.append(h)
    np.testing.assert_allclose(outs.asnumpy(), np.stack(want, axis=1), rtol=1e-5, atol=1e-6)
    listed, _ = cell.unroll(3, nd.array(x), layout="NTC")
    assert isinstance(listed, list) and len(listed) == 3
    np.testing.assert_allclose(last[0].asnumpy(), h, rtol=1e-5, atol=1e-6)
    cell.hybridize(fallback=False)
    out2, new2 = cell(nd.array(x[:, 0]), states)
    np.testing.assert_allclose(out2.asnumpy(), out.asnumpy(), rtol=1e-6)
    assert len(new2) == len(new)


class _UnrollNet(nn.HybridBlock):
    """A cell unrolled inside hybrid_forward, then a Dense on every step."""

    def __init__(self, cell):
        super().__init__()
        self.cell = cell
        self.out = nn.Dense(2, flatten=False)

    def hybrid_forward(self, F, x):
        outputs, _ = self.cell.unroll(4, x, layout="NTC", merge_outputs=True)
        return self.out(outputs)


def _stacked():
    cell = rnn.HybridSequentialRNNCell()
    cell.add(rnn.LSTMCell(4))
    cell.add(rnn.GRUCell(3))
    return cell


@pytest.mark.parametrize("make", [lambda: rnn.LSTMCell(4), lambda: rnn.GRUCell(3), _stacked],
                         ids=["LSTMCell", "GRUCell", "HybridSequentialRNNCell"])
def test_unroll_inside_hybrid_forward_compiles_in_ast_mode(make):
    net = _init(_UnrollNet(make()))
    x = nd.array(_rand(2, 4, 3))
    want = net(x).asnumpy()
    net.hybridize(fallback=False)
    np.testing.assert_allclose(net(x).asnumpy(), want, rtol=1e-5, atol=1e-6)


def test_sequential_rnn_cell_stacks_states():
    seq = rnn.SequentialRNNCell()
    seq.add(rnn.LSTMCell(4))
    seq.add(rnn.RNNCell(3))
    _init(seq)
    x = nd.array(_rand(2, 5, 3))
    outs, states = seq.unroll(5, x, merge_outputs=True)
    assert outs.shape == (2, 5, 3) and [s.shape for s in states] == [(2, 4), (2, 4), (2, 3)]
    assert [s.shape for s in seq.begin_state(2)] == [(2, 4), (2, 4), (2, 3)]
    lstm, cell = seq[0], seq[1]
    o1, _ = lstm.unroll(5, x, merge_outputs=True)
    o2, _ = cell.unroll(5, o1, merge_outputs=True)
    np.testing.assert_allclose(outs.asnumpy(), o2.asnumpy(), rtol=1e-6)


def _gradients(make, x, mode, states=None):
    ast_hybrid.random.seed(0)
    with ast_hybrid.name.NameManager():     # the same parameter names for every block made
        block = make()
    block.initialize(ast_hybrid.init.Uniform(0.5))
    states = states or []
    block(x, *states)
    if mode != "imperative":
        block.hybridize(mode=mode, fallback=False)
    inputs = x.copy()
    inputs.attach_grad()
    with autograd.record():
        out = block(inputs, *states)
    head = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    out.backward(nd.array(head))
    grads = {k: p.grad().asnumpy() for k, p in block.collect_params().items()}
    grads["data"] = inputs.grad.asnumpy()
    for index, state in enumerate(states):
        grads[f"state{index}"] = state.grad.asnumpy()
    return out.asnumpy(), grads


class _WithStates(nn.HybridBlock):
    """A layer given states inside a parent, whose outputs are flat."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def hybrid_forward(self, F, x, *states):
        out, new = self.layer(x, list(states))
        return F.sum(out, axis=0) + F.tile(F.sum(new[0] * 2, axis=0), reps=(1, 2))


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN-tanh"])
@pytest.mark.parametrize("with_states", [False, True])
def test_layer_gradients_equal_in_imperative_and_ast_mode(name, with_states):
    make = lambda: LAYERS[name][0](num_layers=2, bidirectional=True)  # noqa: E731
    if with_states:
        make = lambda: _WithStates(LAYERS[name][0](num_layers=2, bidirectional=True))  # noqa
    x = nd.array(_rand(3, 2, 4))
    states = None
    if with_states:
        states = [nd.array(_rand(4, 2, 5, seed=9 + s)) for s in range(2 if name == "LSTM" else 1)]
        for state in states:
            state.attach_grad()
    out0, grads0 = _gradients(make, x, "imperative", states)
    out, grads = _gradients(make, x, "ast", states)
    np.testing.assert_allclose(out, out0, rtol=1e-5, atol=1e-6)
    assert set(grads) == set(grads0)
    for key in grads0:
        np.testing.assert_allclose(grads[key], grads0[key], rtol=1e-4, atol=1e-5, err_msg=key)


@pytest.mark.parametrize("name", ["LSTMCell", "GRUCell"])
def test_unrolled_cell_gradients_equal_in_imperative_and_ast_mode(name):
    make = lambda: _UnrollNet(CELLS[name][0]())  # noqa: E731
    x = nd.array(_rand(2, 4, 3))
    out0, grads0 = _gradients(make, x, "imperative")
    out, grads = _gradients(make, x, "ast")
    np.testing.assert_allclose(out, out0, rtol=1e-5, atol=1e-6)
    for key in grads0:
        np.testing.assert_allclose(grads[key], grads0[key], rtol=1e-4, atol=1e-5, err_msg=key)


# ----- MXNet 1.9.1 parity
def _mxnet_rnn_scenario():
    import importlib.util
    path = os.path.join(HERE, "..", "..", "tools", "mxnet_rnn_reference.py")
    spec = importlib.util.spec_from_file_location("mxnet_rnn_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.scenario


@pytest.mark.parametrize("mode", [None, "ast", "trace"])
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh"])
def test_layers_match_mxnet(kind, mode):
    with open(REFERENCE) as stream:
        want = json.load(stream)["scenarios"][kind]
    options = None if mode is None else {"mode": mode, "fallback": False}
    got = _mxnet_rnn_scenario()(ast_hybrid, kind, options)
    for key in ("outputs", "outputs_with_states", "outputs_after"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-4, atol=1e-5, err_msg=key)
    for g, w in zip(got["states"], want["states"]):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got["losses"], want["losses"], rtol=2e-5, atol=2e-6)
    assert got["losses"][0] != got["losses"][-1]
