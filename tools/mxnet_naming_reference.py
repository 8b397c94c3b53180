"""Record MXNet 1.9.1's block and parameter names for tests/gluon/test_naming.py.

Run with MXNet's own interpreter (never the project's environment), from the repository root:
    /tmp/mx/bin/python tools/mxnet_naming_reference.py tests/data/mxnet_naming_reference.json
(see tools/mxnet_reference.py for installing it). The test imports `SCENARIOS` and `run` and
passes ast_hybrid in place of mxnet. Each scenario starts in a fresh `mx.name.NameManager()`,
so its top-level counters start at 0 as in a fresh process; what it returns is plain JSON.
"""
import json
import os
import sys
import tempfile

import numpy as np


def _blocks(blocks):
    """[class, prefix, name] of each block."""
    return [[type(b).__name__, b.prefix, b.name] for b in blocks]


def _shapes(params):
    """{name: shape} of a ParameterDict, in its order (shapes as lists, for JSON)."""
    return [[key, list(p.shape) if p.shape is not None else None] for key, p in params.items()]


def top_level_counters(mx, folder):
    """Blocks made outside any name_scope: one counter per process and hint, the hint being
    the class name lowercased, or the layer's alias (conv, pool, the activation's name)."""
    nn, gluon = mx.gluon.nn, mx.gluon
    blocks = [nn.Dense(2), nn.Dense(3), nn.Conv2D(4, 3), nn.Conv1D(2, 3), nn.MaxPool2D(),
              nn.AvgPool2D(), nn.GlobalAvgPool2D(), nn.BatchNorm(), nn.LayerNorm(),
              nn.Embedding(10, 4), nn.Dropout(0.5), nn.Flatten(), nn.Activation("relu"),
              nn.Activation("tanh"), nn.Activation("relu"), nn.LeakyReLU(0.1), nn.PReLU(),
              nn.ELU(), nn.SELU(), nn.GELU(), nn.Swish(), nn.Sequential(),
              nn.HybridSequential(), nn.Sequential(), nn.Lambda("relu"),
              nn.HybridLambda("tanh"), gluon.loss.L2Loss(), gluon.loss.L1Loss(),
              gluon.loss.SoftmaxCrossEntropyLoss(), gluon.loss.SigmoidBinaryCrossEntropyLoss(),
              gluon.loss.HuberLoss(), nn.Dense(4)]
    return {"blocks": _blocks(blocks),
            "params": [list(b.collect_params().keys()) for b in blocks],
            "activation_children": _blocks([nn.Dense(2, activation="relu").act,
                                            nn.Conv2D(2, 3, activation="sigmoid").act])}


def name_scopes(mx, folder):
    """Children made inside `with self.name_scope():` take the parent's prefix and counters
    of their own; children made outside it count at top level."""
    nn = mx.gluon.nn

    class Inner(nn.HybridBlock):
        def __init__(self, **kwargs):
            super(Inner, self).__init__(**kwargs)
            with self.name_scope():
                self.first = nn.Dense(3)
                self.second = nn.Dense(3, activation="relu")
                self.scale = self.params.get("scale", shape=(1,))

        def hybrid_forward(self, F, x, scale):
            return F.broadcast_mul(self.second(self.first(x)), scale)

    class Net(nn.Block):
        def __init__(self, **kwargs):
            super(Net, self).__init__(**kwargs)
            with self.name_scope():
                self.dense0 = nn.Dense(4)
                self.inner = Inner()
                self.dense1 = nn.Dense(4)
                self.inner2 = Inner()
            self.outside = nn.Dense(2)

        def forward(self, x):
            return self.outside(self.inner2(self.dense1(self.inner(self.dense0(x)))))

    first, second = Net(), Net()
    named = Net(prefix="model_")
    return {"blocks": _blocks([first, first.dense0, first.inner, first.inner.first,
                               first.inner.second, first.inner.second.act, first.dense1,
                               first.inner2, first.inner2.first, first.outside, second,
                               second.dense0, second.inner.first, second.outside, named,
                               named.dense0, named.inner.second]),
            "collect_params": list(first.collect_params().keys()),
            "inner_params": list(first.inner.params.keys()),
            "inner_collect_params": list(first.inner.collect_params().keys()),
            "own_params_prefixes": [first.params.prefix, first.inner.params.prefix,
                                    named.inner.params.prefix],
            "named_collect_params": list(named.collect_params().keys())}


def sequential_names(mx, folder):
    """Sequential containers as d2l builds them: children added outside the container's
    name_scope count at top level, inside it they take its prefix; slicing keeps the prefix."""
    nn, nd = mx.gluon.nn, mx.nd
    net = nn.Sequential()
    net.add(nn.Dense(256, activation="relu"))
    net.add(nn.Dense(10))
    net.initialize()
    net(nd.ones((2, 20)))
    scoped = nn.HybridSequential()
    with scoped.name_scope():
        scoped.add(nn.Dense(8), nn.Dense(8), nn.BatchNorm())
    tail = scoped[1:]
    nested = nn.HybridSequential(prefix="outer_")
    with nested.name_scope():
        block = nn.HybridSequential()
        with block.name_scope():
            block.add(nn.Conv2D(4, 3), nn.Conv2D(4, 3))
        nested.add(block, nn.Dense(2))
    return {"blocks": _blocks([net, net[0], net[1], scoped, scoped[0], scoped[1], scoped[2],
                               tail, nested, nested[0], nested[0][0], nested[0][1],
                               nested[1]]),
            "net_params": list(net.collect_params().keys()),
            "first_params": list(net[0].params.keys()),
            "d2l_lookup": list(net[0].params["dense0_weight"].shape),
            "d2l_bias": net[0].bias.name,
            "scoped_params": list(scoped.collect_params().keys()),
            "tail_params": list(tail.collect_params().keys()),
            "nested_params": list(nested.collect_params().keys())}


def custom_classes(mx, folder):
    """A block class's own name, lowercased, counts per class; prefix= replaces it and ''
    gives no prefix at all (its name_scope then adds nothing)."""
    nn = mx.gluon.nn

    class MyNet(nn.HybridBlock):
        def __init__(self, **kwargs):
            super(MyNet, self).__init__(**kwargs)
            with self.name_scope():
                self.body = nn.Dense(2)
                self.weight = self.params.get("weight", shape=(2, 2))

        def hybrid_forward(self, F, x, weight):
            return F.dot(self.body(x), weight)

    class CamelCaseBlock(nn.Block):
        def forward(self, x):
            return x

    blocks = [MyNet(), MyNet(), MyNet(prefix="custom_"), MyNet(prefix=""), MyNet(),
              CamelCaseBlock(), CamelCaseBlock(prefix="cc")]
    return {"blocks": _blocks(blocks + [blocks[3].body, blocks[4].body]),
            "params": [list(b.collect_params().keys()) for b in blocks[:5]],
            "params_prefixes": [b.params.prefix for b in blocks[:5]]}


def params_get(mx, folder):
    """params.get prefixes the name, creates once and returns the same parameter after;
    get_constant likewise; Parameter.name is the full name."""
    nn, nd = mx.gluon.nn, mx.nd

    class MyDense(nn.HybridBlock):
        def __init__(self, units, in_units, **kwargs):
            super(MyDense, self).__init__(**kwargs)
            self.weight = self.params.get("weight", shape=(in_units, units))
            self.bias = self.params.get("bias", shape=(units,))
            self.again = self.params.get("weight")
            self.offset = self.params.get_constant("offset", nd.array([[0.5, -0.5, 1.0]]))

        def hybrid_forward(self, F, x, weight, bias, again, offset):
            return F.broadcast_add(F.dot(x, weight), bias) + offset

    dense = MyDense(3, 5)
    free = mx.gluon.Parameter("free", shape=(2,))
    return {"names": [dense.weight.name, dense.bias.name, dense.offset.name, free.name],
            "same": dense.again is dense.weight,
            "params": list(dense.params.keys()),
            "collect_params": list(dense.collect_params().keys()),
            "params_repr": repr(dense.params),
            "collect_params_repr": repr(dense.collect_params()),
            "parameter_reprs": [repr(dense.weight), repr(dense.offset), repr(free),
                                repr(nn.Dense(2, in_units=3).weight),
                                repr(nn.Dense(2, dtype="float64").bias)]}


def sharing(mx, folder):
    """params= shares by name: another block's params or collect_params(), or a whole
    network's collect_params() for a second instance of it."""
    nn, nd = mx.gluon.nn, mx.nd
    shared = nn.Dense(8, activation="relu")
    twin = nn.Dense(8, activation="relu", params=shared.params)
    other = nn.Dense(8, params=shared.collect_params())
    net = nn.Sequential()
    net.add(nn.Dense(8, activation="relu"), shared, twin, nn.Dense(10))
    net.initialize()
    net(nd.ones((2, 20)))

    class Net(nn.HybridBlock):
        def __init__(self, **kwargs):
            super(Net, self).__init__(**kwargs)
            with self.name_scope():
                self.hidden = nn.Dense(4)
                self.out = nn.Dense(2)

        def hybrid_forward(self, F, x):
            return self.out(self.hidden(x))

    first = Net()
    second = Net(params=first.collect_params())
    return {"blocks": _blocks([shared, twin, other, first, second, second.hidden]),
            "twin_params": list(twin.params.keys()),
            "twin_same": twin.weight is shared.weight and twin.bias is shared.bias,
            "other_same": other.weight is shared.weight,
            "net_params": list(net.collect_params().keys()),
            "second_params": list(second.collect_params().keys()),
            "second_same": [a is b for a, b in zip(first.collect_params().values(),
                                                   second.collect_params().values())],
            "second_own_prefix": second.params.prefix}


def selection(mx, folder):
    """collect_params(select): a regular expression matched (re.match) against full names."""
    nn = mx.gluon.nn
    net = nn.HybridSequential(prefix="test_")
    with net.name_scope():
        net.add(nn.Conv2D(4, 3), nn.BatchNorm(), nn.Dense(2))
    return {"all": list(net.collect_params().keys()),
            "weight": list(net.collect_params(".*weight").keys()),
            "weight_or_bias": list(net.collect_params(".*weight|.*bias").keys()),
            "exact": list(net.collect_params("test_conv0_weight|test_dense0_bias").keys()),
            "anchored": list(net.collect_params("conv").keys()),
            "selected_repr": repr(net.collect_params(".*running")),
            "empty_repr": repr(net.collect_params("nothing"))}


def reprs(mx, folder):
    """ParameterDict reprs: the prefix then the parameters; deferred shapes show their 0s."""
    nn, nd = mx.gluon.nn, mx.nd
    net = nn.Sequential(prefix="net1_")
    with net.name_scope():
        net.add(nn.Dense(10, in_units=5), nn.Dense(256))
    deferred = repr(net.collect_params())
    net.initialize()
    net(nd.ones((2, 5)))
    return {"deferred": deferred, "initialized": repr(net.collect_params()),
            "own": repr(net[1].params), "empty_own": repr(net.params),
            "unprefixed": repr(nn.Dense(2, prefix="").params),
            "activation": repr(nn.Activation("relu").params),
            "layers": [repr(nn.Conv2D(2, 3, in_channels=1).params),
                       repr(nn.Embedding(4, 2).params), repr(nn.LayerNorm().params),
                       repr(nn.PReLU().params), repr(nn.BatchNorm().params)]}


def _saved_keys(mx, path):
    return sorted(mx.nd.load(path).keys())


def save_and_load(mx, folder):
    """save_parameters writes structural names (`0.weight`), so a file loads into the same
    network built with other prefixes; collect_params().save writes full names (the older
    save_params without the block's prefix), and load_parameters reads those after it."""
    nn = mx.gluon.nn

    def build(prefix=None):
        net = nn.HybridSequential(prefix=prefix)
        with net.name_scope():
            shared = nn.Dense(4, in_units=4)
            net.add(nn.Dense(4, in_units=3), shared, nn.Dense(4, in_units=4,
                                                              params=shared.params),
                    nn.BatchNorm(in_channels=4))
        return net

    net = build()
    net.initialize(mx.init.Uniform())
    path = os.path.join(folder, "net.params")
    net.save_parameters(path)
    dedup = os.path.join(folder, "dedup.params")
    net.save_parameters(dedup, deduplicate=True)
    full = os.path.join(folder, "full.params")
    net.collect_params().save(full)
    stripped = os.path.join(folder, "stripped.params")
    net.collect_params().save(stripped, strip_prefix=net.prefix)
    older = os.path.join(folder, "older.params")
    net.save_params(older)
    other = build()
    other.load_parameters(path)
    same = [float(abs(a.data() - b.data()).sum().asscalar()) == 0 for a, b in
            zip(net.collect_params().values(), other.collect_params().values())]
    third = build()
    third.load_parameters(dedup)
    fourth = build()
    fourth.load_parameters(stripped)
    fifth = build()
    fifth.collect_params().load(stripped, restore_prefix=fifth.prefix)
    return {"prefixes": [net.prefix, other.prefix, third.prefix, fourth.prefix],
            "structural": _saved_keys(mx, path), "deduplicated": _saved_keys(mx, dedup),
            "full": _saved_keys(mx, full), "stripped": _saved_keys(mx, stripped),
            "older": _saved_keys(mx, older),
            "loaded_equal": same,
            "dedup_loaded_equal": [float(abs(a.data() - b.data()).sum().asscalar()) == 0
                                   for a, b in zip(net.collect_params().values(),
                                                   third.collect_params().values())],
            "stripped_loaded_equal": [
                float(abs(a.data() - b.data()).sum().asscalar()) == 0
                for a, b in zip(net.collect_params().values(),
                                fourth.collect_params().values())],
            "restored_equal": [float(abs(a.data() - b.data()).sum().asscalar()) == 0
                               for a, b in zip(net.collect_params().values(),
                                               fifth.collect_params().values())]}


def _graph_names(path):
    with open(path) as stream:
        graph = json.load(stream)
    nodes = graph["nodes"]
    return {"nodes": [[n["op"], n["name"]] for n in nodes],
            "arg_nodes": [nodes[i]["name"] for i in graph["arg_nodes"]]}


def export_names(mx, folder):
    """export writes full names in the graph and `arg:`/`aux:` full names in the params;
    SymbolBlock.imports keys its parameters by the graph's names and has no prefix."""
    nn, nd, gluon = mx.gluon.nn, mx.nd, mx.gluon

    class Net(nn.HybridBlock):
        def __init__(self, **kwargs):
            super(Net, self).__init__(**kwargs)
            with self.name_scope():
                self.conv = nn.Conv2D(2, 3, activation="relu")
                self.norm = nn.BatchNorm()
                self.out = nn.Dense(3)

        def hybrid_forward(self, F, x):
            return self.out(F.relu(self.norm(self.conv(x))))

    mlp = nn.HybridSequential()
    mlp.add(nn.Dense(8, activation="relu"), nn.Dense(2))
    net = Net()
    result = {}
    for label, block, shape in (("mlp", mlp, (1, 5)), ("net", net, (1, 1, 5, 5))):
        block.initialize()
        block.hybridize()
        block(nd.ones(shape))
        path = os.path.join(folder, label)
        block.export(path)
        result[label] = _graph_names(path + "-symbol.json")
        result[label]["params"] = _saved_keys(mx, path + "-0000.params")
        imported = gluon.SymbolBlock.imports(path + "-symbol.json", ["data"],
                                             path + "-0000.params")
        result[label]["imported"] = {
            "block": _blocks([imported])[0],
            "params": list(imported.params.keys()),
            "collect_params": list(imported.collect_params().keys()),
            "params_prefix": imported.params.prefix,
            "same_output": float(abs(imported(nd.ones(shape)) - block(nd.ones(shape)))
                                 .max().asscalar()) < 1e-6}
    return result


def symbol_names(mx, folder):
    """A block called on a symbol names its nodes and variables inside its own prefix."""
    nn, sym = mx.gluon.nn, mx.sym

    class Net(nn.HybridBlock):
        def __init__(self, **kwargs):
            super(Net, self).__init__(**kwargs)
            with self.name_scope():
                self.hidden = nn.Dense(4, activation="tanh")
                self.out = nn.Dense(2)

        def hybrid_forward(self, F, x):
            return self.out(F.relu(self.hidden(x)))

    net = Net()
    out = net(sym.var("data"))
    return {"arguments": out.list_arguments(),
            "outputs": out.get_internals().list_outputs()}


def name_managers(mx, folder):
    """mx.name: a NameManager gives fresh top-level counters, a Prefix prepends to the
    names of blocks made at top level; symbols made at top level share those counters."""
    nn, sym = mx.gluon.nn, mx.sym
    before = nn.Dense(1).prefix
    with mx.name.NameManager():
        fresh = nn.Dense(1).prefix
    after = nn.Dense(1).prefix
    with mx.name.Prefix("model_"):
        prefixed = [nn.Dense(1).prefix, nn.Dense(1).prefix, sym.relu(sym.var("x")).name]
    relu = sym.relu(sym.var("x")).name
    activation = nn.Activation("relu").prefix
    return {"before": before, "fresh": fresh, "after": after, "prefixed": prefixed,
            "relu_symbol": relu, "activation_after_symbol": activation}


def given_prefixes(mx, folder):
    """prefix= and params= given inside a name_scope, blocks made inside an mx.name.Prefix,
    and symbols a user makes inside a block's name_scope."""
    nn, sym = mx.gluon.nn, mx.sym

    class Net(nn.Block):
        def __init__(self, **kwargs):
            super(Net, self).__init__(**kwargs)
            with self.name_scope():
                self.named = nn.Dense(2, prefix="fc_")
                self.counted = nn.Dense(2)
                self.shared = nn.Dense(2, params=self.counted.params)
                self.symbol = sym.FullyConnected(sym.var("x"), num_hidden=2)
                self.given = sym.relu(sym.var("y"), name="act")

    net = Net()
    with mx.name.Prefix("outer_"):
        inner = Net()
    return {"blocks": _blocks([net, net.named, net.counted, net.shared, inner, inner.named,
                               inner.counted]),
            "params": list(net.collect_params().keys()),
            "shared_params": list(net.shared.params.keys()),
            "symbols": [net.symbol.name, net.given.name, inner.symbol.name],
            "symbol_arguments": net.symbol.list_arguments()}


def rnn_names(mx, folder):
    """Recurrent layers and cells: the layer's own parameters inside its prefix."""
    rnn = mx.gluon.rnn
    lstm = rnn.LSTM(5, num_layers=2, bidirectional=True, input_size=4)
    gru = rnn.GRU(3, input_size=2)
    plain = rnn.RNN(3, input_size=2)
    lstm.initialize()
    path = os.path.join(folder, "lstm.params")
    lstm.save_parameters(path)
    stack = rnn.HybridSequentialRNNCell()
    with stack.name_scope():
        stack.add(rnn.LSTMCell(4, input_size=3))
        stack.add(rnn.GRUCell(4, input_size=4))
    cells = [rnn.LSTMCell(4), rnn.GRUCell(4), rnn.RNNCell(4), stack, stack[0], stack[1]]
    return {"layers": _blocks([lstm, gru, plain]),
            "lstm_params": list(lstm.collect_params().keys()),
            "gru_params": list(gru.collect_params().keys()),
            "lstm_saved": _saved_keys(mx, path),
            "cells": _blocks(cells),
            "cell_params": [list(c.collect_params().keys()) for c in cells]}


SCENARIOS = [top_level_counters, name_scopes, sequential_names, custom_classes, params_get,
             sharing, selection, reprs, save_and_load, export_names, symbol_names,
             name_managers, given_prefixes, rnn_names]


def run(mx, scenario):
    """`scenario`'s record, made in a fresh NameManager and a temporary folder."""
    np.random.seed(0)
    mx.random.seed(0)
    with tempfile.TemporaryDirectory() as folder, mx.name.NameManager():
        return scenario(mx, folder)


def main(path):
    import mxnet as mx
    reference = {"mxnet_version": mx.__version__,
                 "scenarios": {s.__name__: run(mx, s) for s in SCENARIOS}}
    with open(path, "w") as stream:
        json.dump(reference, stream, indent=1)
        stream.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
