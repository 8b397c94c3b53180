"""ast_hybrid.viz against MXNet 1.9.1: print_summary's text and plot_network's Digraph calls for
each model of tools/mxnet_viz_reference.py, and Block.summary's text, as recorded in
tests/data/mxnet_viz_reference.json; then the Digraph itself, rendered where Graphviz's `dot`
is installed."""
import importlib.util
import json
import os
import shutil

import pytest

import ast_hybrid
import ast_hybrid.viz
from ast_hybrid import nd, sym
from ast_hybrid.gluon import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def _reference_tool():
    path = os.path.join(HERE, "..", "tools", "mxnet_viz_reference.py")
    spec = importlib.util.spec_from_file_location("mxnet_viz_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _reference_tool()
with open(os.path.join(HERE, "data", "mxnet_viz_reference.json")) as _stream:
    _RECORDED = json.load(_stream)
REFERENCE = _RECORDED["scenarios"]
MODELS = {model.__name__: model for model in TOOL.SCENARIOS}


@pytest.fixture(scope="module", params=sorted(MODELS))
def recorded(request):
    pytest.importorskip("graphviz", reason="plot_network needs the graphviz package "
                                           "(the viz and test extras install it)")
    ast_hybrid.random.seed(0)
    with ast_hybrid.name.NameManager():
        return REFERENCE[request.param], TOOL.run(ast_hybrid, MODELS[request.param])


@pytest.mark.parametrize("key", ["summary", "summary_shapes", "summary_narrow"])
def test_summary_is_mxnets(recorded, key):
    mxnet, ours = recorded
    assert ours[key] == mxnet[key]


@pytest.mark.parametrize("key", ["plot", "plot_shapes", "plot_weights"])
def test_drawing_is_mxnets(recorded, key):
    mxnet, ours = recorded
    assert ours[key] == mxnet[key]


def test_every_model_is_recorded():
    assert sorted(REFERENCE) == sorted(MODELS)


def _mlp():
    return TOOL.lecture_mlp(ast_hybrid)


def test_digraph_holds_the_drawn_nodes_and_edges():
    graphviz = pytest.importorskip("graphviz", reason="needs the graphviz package")
    symbol, shape = _mlp()
    dot = ast_hybrid.viz.plot_network(symbol, shape=shape)
    assert isinstance(dot, graphviz.Digraph)
    source = dot.source
    assert "mlp_dense2_fwd -> mlp_dense1_relu_fwd" in source
    assert "mlp_dense0_weight" not in source


def test_rendering_gives_a_file(tmp_path):
    pytest.importorskip("graphviz", reason="needs the graphviz package")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's `dot` program is not installed, so nothing can be rendered")
    symbol, shape = _mlp()
    dot = ast_hybrid.viz.plot_network(symbol, shape=shape, save_format="svg")
    path = dot.render(os.path.join(tmp_path, "mlp"))
    with open(path) as stream:
        assert "<svg" in stream.read()


def test_refusals_are_mxnets():
    with pytest.raises(TypeError, match="symbol must be"):
        ast_hybrid.viz.print_summary("data")
    # an OpError naming the node, a ValueError as MXNet's "Input shape is incomplete"
    with pytest.raises(ValueError):
        ast_hybrid.viz.print_summary(sym.FullyConnected(sym.var("data"), num_hidden=2),
                                     shape={})


def test_block_summary_is_mxnets():
    # MXNet's rows include what the hooks see while deferred shapes are inferred (symbols)
    with ast_hybrid.name.NameManager():
        ours = TOOL.block_summaries(ast_hybrid)
    assert ours == _RECORDED["block_summary"]


def test_block_summary_refuses_a_hybridized_block():
    net = nn.HybridSequential()
    net.add(nn.Dense(2))
    net.initialize()
    net.hybridize()
    with pytest.raises(AssertionError, match="must not be hybridized to print summary"):
        net.summary(nd.ones((1, 3)))
