"""Every attribute MXNet 1.9.1 writes into its model zoo's graphs (recorded by
tools/mxnet_zoo_graph_attributes.py) loads; an attribute MXNet does not know is refused."""
import json
import os

import pytest

from ast_hybrid import ops, sym
from ast_hybrid.errors import GraphFormatError, OpError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(ROOT, "tests", "data", "mxnet_zoo_graph_attributes.json")) as stream:
    RECORDED = json.load(stream)["attributes"]
CASES = [(op, attrs) for op, seen in RECORDED.items() for attrs in seen]


def _one_node_graph(op_name, attrs):
    """MXNet's JSON of one `op_name` node with these attributes, on variables."""
    op = ops.get(op_name)
    inputs = op.input_names(op.parse_attrs(attrs, strict=False))
    nodes = [{"op": "null", "name": name, "inputs": []} for name in inputs]
    nodes.append({"op": op_name, "name": "node0", "attrs": attrs,
                  "inputs": [[i, 0, 0] for i in range(len(inputs))]})
    return json.dumps({"nodes": nodes, "arg_nodes": list(range(len(inputs))),
                       "node_row_ptr": list(range(len(nodes) + 1)),
                       "heads": [[len(inputs), 0, 0]],
                       "attrs": {"mxnet_version": ["int", 10901]}})


def test_the_recording_covers_the_zoos_operators():
    assert {"Convolution", "BatchNorm", "Pooling", "FullyConnected", "Concat",
            "Dropout"} <= set(RECORDED)


@pytest.mark.parametrize("op_name, attrs", CASES,
                         ids=[f"{op}-{i}" for i, (op, _) in enumerate(CASES)])
def test_each_recorded_node_loads(op_name, attrs):
    graph = sym.load_json(_one_node_graph(op_name, attrs))
    assert graph.list_outputs() == ["node0_output"]


def test_an_attribute_unknown_to_mxnet_is_still_refused():
    attrs = dict(RECORDED["Convolution"][0], not_an_mxnet_attribute="1")
    with pytest.raises((GraphFormatError, OpError), match="not_an_mxnet_attribute"):
        sym.load_json(_one_node_graph("Convolution", attrs))
