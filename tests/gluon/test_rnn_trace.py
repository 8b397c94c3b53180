"""gluon.rnn cells in trace mode, traced as MXNet does (states a list of arrays, one symbol
each, outputs regrouped): values and gradients against imperative mode, plain numpy, finite
differences and MXNet 1.9.1's recordings (tools/mxnet_rnn_reference.py); export of a traced
cell; trace() of nested list inputs."""
import importlib.util
import json
import os

import numpy as np
import pytest

import ast_hybrid
from ast_hybrid import autograd, nd
from ast_hybrid.compiler.trace import flatten_inputs, regroup_inputs, trace
from ast_hybrid.gluon import SymbolBlock, nn, rnn

from test_rnn import CELLS, _gradients, _init, _numpy_params, _rand, _stacked, _UnrollNet, np_step

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "..", "data", "mxnet_rnn_reference.json")) as _stream:
    REFERENCE = json.load(_stream)
_spec = importlib.util.spec_from_file_location(
    "mxnet_rnn_reference", os.path.join(HERE, "..", "..", "tools", "mxnet_rnn_reference.py"))
TOOL = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(TOOL)

MODES = {"imperative": None, "trace": {"mode": "trace"},
         "ast": {"mode": "ast", "fallback": False}}


def _assert_nested_close(got, want, what):
    for index, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-4, atol=1e-5,
                                   err_msg=f"{what}[{index}]")
    assert len(got) == len(want), what


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("kind", sorted(TOOL.CELLS))
def test_cells_match_mxnet_and_imperative_mode(kind, mode):
    """A step (first call), a step at a new batch size (the cached program), and under
    autograd.record() a step and an unroll: values, inputs', states' and parameters' grads."""
    got = TOOL.cell_scenario(ast_hybrid, kind, MODES[mode])
    imperative = TOOL.cell_scenario(ast_hybrid, kind, None)
    for key in ("step", "step_wide", "heads", "gradients"):
        _assert_nested_close(got[key], REFERENCE["hybridized_cells"][kind][key], key)
        _assert_nested_close(got[key], REFERENCE["cells"][kind][key], key)
        _assert_nested_close(got[key], imperative[key], key)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_traced_cell_is_one_program_for_every_batch_size_and_matches_numpy(name):
    """Hybridized before its first call: the trace also infers the input size."""
    make, mode = CELLS[name]
    cell = _init(make())
    cell.hybridize(mode="trace", fallback=False)
    for batch in (3, 6, 3):
        x = _rand(batch, 5, seed=batch)
        states = [nd.array(_rand(batch, 4, seed=10 + s)) for s in range(len(cell.state_info()))]
        out, new = cell(nd.array(x), states)
        weights = [_numpy_params(cell)[k] for k in ("i2h_weight", "h2h_weight", "i2h_bias",
                                                    "h2h_bias")]
        h, c = np_step(mode, x, states[0].asnumpy(), states[-1].asnumpy(), *weights)
        np.testing.assert_allclose(out.asnumpy(), h, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(new[-1].asnumpy(), c if mode == "lstm" else h, rtol=1e-5,
                                   atol=1e-6)
        assert isinstance(new, list) and len(new) == len(states)
    assert [entry.mode for entry in cell._programs.values()] == ["trace"]


@pytest.mark.parametrize("name", ["LSTMCell", "GRUCell"])
def test_traced_cell_gradients_match_finite_differences(name):
    cell = _init(CELLS[name][0]())
    x = nd.array(_rand(2, 3, seed=4))
    states = [nd.array(_rand(2, 4, seed=5 + s)) for s in range(len(cell.state_info()))]
    cell(x, states)
    cell.hybridize(mode="trace", fallback=False)
    head = _rand(2, 4, seed=8)

    def loss(data, given):
        out, new = cell(data, given)
        return (out * nd.array(head)).sum() + (new[-1] * new[-1]).sum()

    inputs = [x] + states
    for array in inputs:
        array.attach_grad()
    with autograd.record():
        total = loss(x, states)
    total.backward()
    for index, array in enumerate(inputs):
        values = array.asnumpy().astype(np.float64)
        numeric = np.zeros_like(values)
        for position in np.ndindex(values.shape):
            sides = []
            for sign in (1, -1):
                moved = values.copy()
                moved[position] += sign * 1e-3
                trial = [a if i != index else nd.array(moved.astype(np.float32))
                         for i, a in enumerate(inputs)]
                sides.append(loss(trial[0], trial[1:]).asscalar())
            numeric[position] = (sides[0] - sides[1]) / 2e-3
        np.testing.assert_allclose(array.grad.asnumpy(), numeric, rtol=1e-2, atol=1e-3)


@pytest.mark.parametrize("make", [lambda: rnn.LSTMCell(4), lambda: rnn.GRUCell(3), _stacked],
                         ids=["LSTMCell", "GRUCell", "HybridSequentialRNNCell"])
def test_unroll_inside_a_traced_block_equals_imperative_mode(make):
    x = nd.array(_rand(2, 4, 3))
    out0, grads0 = _gradients(lambda: _UnrollNet(make()), x, "imperative")
    out, grads = _gradients(lambda: _UnrollNet(make()), x, "trace")
    np.testing.assert_allclose(out, out0, rtol=1e-5, atol=1e-6)
    assert set(grads) == set(grads0)
    for key in grads0:
        np.testing.assert_allclose(grads[key], grads0[key], rtol=1e-4, atol=1e-5, err_msg=key)


def test_sequential_rnn_cell_of_traced_cells_equals_imperative_mode():
    def run(mode):
        ast_hybrid.random.seed(0)
        seq = rnn.SequentialRNNCell()
        seq.add(rnn.LSTMCell(4))
        seq.add(rnn.RNNCell(3))
        _init(seq)
        x = nd.array(_rand(2, 5, 3))
        seq.unroll(5, x)
        if mode:
            seq.hybridize(mode=mode, fallback=False)
        x.attach_grad()
        with autograd.record():
            outs, states = seq.unroll(5, x, merge_outputs=True)
            loss = (outs * outs).sum() + states[1].sum() + states[2].sum()
        loss.backward()
        grads = [p.grad().asnumpy() for p in seq.collect_params().values()]
        return [outs.asnumpy()] + [s.asnumpy() for s in states] + [x.grad.asnumpy()] + grads

    for got, want in zip(run("trace"), run(None)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", sorted(TOOL.EXPORTED))
def test_export_of_a_traced_cell_is_mxnets_graph_and_imports_back(kind, tmp_path):
    exported = TOOL.export_scenario(ast_hybrid, kind, str(tmp_path))
    assert exported["arguments"] == REFERENCE["exports"][kind]["arguments"]
    assert exported["outputs"] == REFERENCE["exports"][kind]["outputs"]
    _assert_nested_close(exported["imported"], exported["cell"], "imported")


def test_exported_stacked_cell_imports_back(tmp_path):
    cell = _init(_stacked())
    x = nd.array(_rand(2, 3))
    states = cell.begin_state(batch_size=2)
    cell.hybridize(mode="trace")
    out, new = cell(x, states)
    path = str(tmp_path / "stacked")
    cell.export(path)
    inputs = [f"data{i}" for i in range(1 + len(states))]
    imported = SymbolBlock.imports(path + "-symbol.json", inputs, path + "-0000.params")
    _assert_nested_close([a.asnumpy() for a in imported(x, *states)],
                         [a.asnumpy() for a in [out] + new], "imported")


class _Gated(nn.HybridBlock):
    """Takes its states as one list, as MXNet's cells do; its weight's shape is deferred."""

    def __init__(self):
        super().__init__()
        self.weight = self.params.get("weight", shape=(4, 0), allow_deferred_init=True)

    def hybrid_forward(self, F, x, states, weight):
        h, (c,) = states
        return F.FullyConnected(x, weight, no_bias=True, num_hidden=4) * h + c, [h, c]


def test_trace_gives_each_array_of_nested_inputs_a_symbol_and_regroups_them():
    x, h, c = (nd.array(_rand(2, n, seed=n)) for n in (3, 4, 4))
    block = _Gated()
    block.initialize()
    out, states = block(x, [h, (c,)])        # deferred shape inferred by tracing nested inputs
    assert block.weight.shape == (4, 3)
    weight = block.weight.data().asnumpy()
    np.testing.assert_allclose(out.asnumpy(),
                               (x.asnumpy() @ weight.T) * h.asnumpy() + c.asnumpy(), rtol=1e-6)
    traced = trace(block, (x, [h, (c,)]))
    assert traced.data_names == ["data0", "data1", "data2"]
    assert traced.symbol.list_arguments() == ["data0", block.weight.name, "data1", "data2"]
    arrays, structure = flatten_inputs((x, [h, (c,)], 0.5))
    assert arrays == [x, h, c]
    assert regroup_inputs(structure, ["a", "b", "c"]) == ["a", ["b", ("c",)], 0.5]
