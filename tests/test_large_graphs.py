"""Importing and running a graph costs time linear in its nodes: long chains, nodes of one
name, nodes of thousands of outputs."""
import json
import os
import time

import numpy as np
import pytest

from ast_hybrid import autograd, init, nd
from ast_hybrid.compiler import graph_program
from ast_hybrid.gluon import SymbolBlock, nn

LARGE_GRAPHS = bool(os.environ.get("AST_HYBRID_LARGE_GRAPHS"))


def write_chain(path, length, name=lambda i: f"relu{i}"):
    """A graph of `length` relu nodes in a chain after the input x."""
    nodes = [{"op": "null", "name": "x", "inputs": []}]
    nodes += [{"op": "relu", "name": name(i), "inputs": [[i, 0, 0]]} for i in range(length)]
    path.write_text(json.dumps({"nodes": nodes, "arg_nodes": [0],
                                "node_row_ptr": list(range(length + 2)),
                                "heads": [[length, 0, 0]]}))
    return str(path)


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def check_chain(path, hybridize, seconds):
    block, import_seconds = timed(SymbolBlock.imports, path, ["x"])
    if hybridize:
        block.hybridize()
    x = nd.array(np.array([-1.0, 2.0], np.float32))
    y, call_seconds = timed(block, x)
    np.testing.assert_array_equal(y.asnumpy(), [0.0, 2.0])
    assert import_seconds + call_seconds < seconds, (import_seconds, call_seconds)


def test_a_chain_of_50k_nodes_imports_and_runs_in_seconds(tmp_path):
    check_chain(write_chain(tmp_path / "chain.json", 50_000), hybridize=False, seconds=5)


def test_a_compiled_chain_of_nodes_of_one_name_is_named_in_linear_time(tmp_path):
    check_chain(write_chain(tmp_path / "same.json", 10_000, name=lambda i: "relu"),
                hybridize=True, seconds=8)


def test_a_compiled_node_of_thousands_of_outputs_renders_in_linear_time(tmp_path):
    count = 20_000
    path = tmp_path / "split.json"
    path.write_text(json.dumps({
        "nodes": [{"op": "null", "name": "x", "inputs": []},
                  {"op": "SliceChannel", "name": "parts", "inputs": [[0, 0, 0]],
                   "attrs": {"num_outputs": str(count), "axis": "0"}}],
        "arg_nodes": [0], "heads": [[1, i, 0] for i in range(count)]}))
    block = SymbolBlock.imports(str(path), ["x"], max_node_outputs=count)
    block.hybridize()
    parts, seconds = timed(block, nd.arange(count))
    assert [int(part.asscalar()) for part in parts[::4999]] == [0, 4999, 9998, 14997, 19996]
    assert seconds < 8


def exported_cnn(tmp_path):
    net = nn.HybridSequential()
    net.add(nn.Conv2D(4, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"),
            nn.MaxPool2D(), nn.Flatten(), nn.Dense(3))
    net.initialize(init.Normal(0.2))
    net.hybridize(mode="trace")
    net(nd.ones((2, 1, 6, 6)))
    return net.export(str(tmp_path / "cnn"))


def test_a_planned_graph_computes_what_its_compiled_program_does(tmp_path, monkeypatch):
    symbol_file, params_file = exported_cnn(tmp_path)
    x = nd.array(np.random.default_rng(0).normal(size=(2, 1, 6, 6)).astype(np.float32))
    blocks = {}
    for kind, threshold in (("compiled", graph_program.PLANNED_GRAPH_NODES), ("planned", 0)):
        monkeypatch.setattr(graph_program, "PLANNED_GRAPH_NODES", threshold)
        block = blocks[kind] = SymbolBlock.imports(symbol_file, ["data"], params_file)
        block.hybridize()
        block(x)
    sources = {kind: list(block._programs.values())[0].program.source
               for kind, block in blocks.items()}
    assert "def SymbolBlock" in sources["compiled"]
    assert sources["planned"].startswith("# SymbolBlock: a graph of 6 operator nodes, run as "
                                         "a plan of kernel calls")
    for train in (False, True):      # BatchNorm reads the mode on every call
        with autograd.train_mode() if train else autograd.predict_mode():
            np.testing.assert_allclose(blocks["planned"](x).asnumpy(),
                                       blocks["compiled"](x).asnumpy(), rtol=1e-6)
    gradients = {}
    for kind, block in blocks.items():
        with autograd.record():
            loss = (block(x) ** 2).sum()
        loss.backward()
        gradients[kind] = block.params["conv0_weight"].grad().asnumpy()
    np.testing.assert_allclose(gradients["planned"], gradients["compiled"], rtol=1e-5)
    assert np.abs(gradients["planned"]).sum() > 0


def test_a_planned_graph_returns_every_output(tmp_path, monkeypatch):
    monkeypatch.setattr(graph_program, "PLANNED_GRAPH_NODES", 0)
    path = tmp_path / "split.json"
    path.write_text(json.dumps({
        "nodes": [{"op": "null", "name": "x", "inputs": []},
                  {"op": "SliceChannel", "name": "parts", "inputs": [[0, 0, 0]],
                   "attrs": {"num_outputs": "3", "axis": "0"}},
                  {"op": "elemwise_add", "name": "sum", "inputs": [[1, 0, 0], [1, 2, 0]]}],
        "arg_nodes": [0], "heads": [[2, 0, 0], [1, 1, 0]]}))
    block = SymbolBlock.imports(str(path), ["x"])
    block.hybridize()
    total, middle = block(nd.array([1.0, 2.0, 4.0]))
    assert total.asnumpy().tolist() == [5.0] and middle.asnumpy().tolist() == [2.0]


@pytest.mark.skipif(not LARGE_GRAPHS, reason="set AST_HYBRID_LARGE_GRAPHS (~12 s)")
@pytest.mark.parametrize("hybridize", [False, True])
def test_a_chain_of_400k_nodes_imports_and_runs_in_seconds(tmp_path, hybridize):
    check_chain(write_chain(tmp_path / "chain.json", 400_000), hybridize, seconds=10)
