"""trace() of nested list inputs: each array a symbol, the arguments regrouped."""
import numpy as np

from ast_hybrid import nd
from ast_hybrid.compiler.trace import flatten_inputs, regroup_inputs, trace
from ast_hybrid.gluon import nn

from test_rnn import _rand


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
    assert traced.symbol.list_arguments() == ["data0", "weight", "data1", "data2"]
    arrays, structure = flatten_inputs((x, [h, (c,)], 0.5))
    assert arrays == [x, h, c]
    assert regroup_inputs(structure, ["a", "b", "c"]) == ["a", ["b", ("c",)], 0.5]
