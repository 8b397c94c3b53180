"""Record MXNet 1.9.1's print_summary, plot_network and Block.summary for tests/test_viz.py.

Run with MXNet's own interpreter (never the project's environment), from the repository root:
    /tmp/mx/bin/python tools/mxnet_viz_reference.py tests/data/mxnet_viz_reference.json
(see tools/mxnet_reference.py for installing it; this also needs `pip install graphviz` there).
The test imports `SCENARIOS` and `run` and passes ast_hybrid in place of mxnet. A drawing is
recorded as the calls made on the Digraph (its constructor's, then each node's and edge's),
which do not depend on the graphviz package's version as its source text does.
"""
import contextlib
import io
import json
import sys


def lecture_mlp(mx):
    """The lecture's MLP, made with Gluon and traced into a symbol."""
    nn = mx.gluon.nn
    net = nn.HybridSequential(prefix="mlp_")
    with net.name_scope():
        net.add(nn.Dense(256, activation="relu"), nn.Dense(128, activation="relu"), nn.Dense(2))
    return net(mx.sym.var("data")), {"data": (1, 512)}


def small_cnn(mx):
    """Convolutions, BatchNorm, activations, pooling, a concat of two branches and the layers
    that take their inputs flattened, made with the symbol API under fixed names."""
    S = mx.sym
    data = S.var("data")
    x = S.Convolution(data, kernel=(3, 3), num_filter=8, pad=(1, 1), name="conv0")
    x = S.BatchNorm(x, fix_gamma=False, name="bn0")
    x = S.Activation(x, act_type="relu", name="relu0")
    x = S.Pooling(x, kernel=(2, 2), stride=(2, 2), pool_type="max", name="pool0")
    left = S.Convolution(x, kernel=(1, 1), num_filter=4, no_bias=True, name="conv1")
    right = S.Convolution(x, kernel=(3, 3), stride=(1, 1), pad=(1, 1), num_filter=4,
                          num_group=2, name="conv2")
    right = S.LeakyReLU(right, act_type="leaky", slope=0.1, name="leaky0")
    x = S.Concat(left, right, dim=1, name="concat0")
    x = S.Pooling(x, kernel=(1, 1), global_pool=True, pool_type="avg", name="gap0")
    x = S.Flatten(x, name="flatten0")
    x = S.FullyConnected(x, num_hidden=10, name="fc0")
    return S.softmax(x, name="softmax0"), {"data": (2, 3, 8, 8)}


def _summary(mx, symbol, **kwargs):
    stream = io.StringIO()
    with contextlib.redirect_stdout(stream):
        mx.viz.print_summary(symbol, **kwargs)
    return stream.getvalue()


def recorded_drawing(plot):
    """The calls `plot()` makes on graphviz.Digraph: [["init", kwargs], ["node", kwargs],
    ["edge", kwargs], ...], with every value a string as graphviz takes them."""
    import graphviz
    calls = []

    class Recording(graphviz.Digraph):
        def __init__(self, *args, **kwargs):
            calls.append(["init", {key: str(value) for key, value in kwargs.items()}])
            super().__init__(*args, **kwargs)

        def node(self, *args, **kwargs):
            calls.append(["node", {key: str(value) for key, value in kwargs.items()}])
            return super().node(*args, **kwargs)

        def edge(self, *args, **kwargs):
            calls.append(["edge", {key: str(value) for key, value in kwargs.items()}])
            return super().edge(*args, **kwargs)

    original, graphviz.Digraph = graphviz.Digraph, Recording
    try:
        plot()
    finally:
        graphviz.Digraph = original
    return calls


def run(mx, model):
    """What MXNet's visualization gives for `model`: summaries without and with shapes (and
    at another line length), drawings plain, with shapes and types, and with weights."""
    import numpy as np
    symbol, shape = model(mx)
    dtype = {name: np.float32 for name in shape}
    return {
        "summary": _summary(mx, symbol),
        "summary_shapes": _summary(mx, symbol, shape=shape),
        "summary_narrow": _summary(mx, symbol, shape=shape, line_length=80,
                                   positions=[30, 50, 60, 80]),
        "plot": recorded_drawing(lambda: mx.viz.plot_network(symbol)),
        "plot_shapes": recorded_drawing(lambda: mx.viz.plot_network(
            symbol, title="net", save_format="png", shape=shape, dtype=dtype,
            node_attrs={"fixedsize": "false"})),
        "plot_weights": recorded_drawing(lambda: mx.viz.plot_network(
            symbol, shape=shape, hide_weights=False)),
    }


SCENARIOS = [lecture_mlp, small_cnn]


def _block_summary(mx, block, *inputs):
    stream = io.StringIO()
    with contextlib.redirect_stdout(stream):
        block.summary(*inputs)
    return stream.getvalue()


def block_summaries(mx):
    """Block.summary of the lecture's MLP, a small CNN and two layers sharing parameters."""
    nn = mx.gluon.nn
    mlp = nn.HybridSequential(prefix="mlp_")
    with mlp.name_scope():
        mlp.add(nn.Dense(256, activation="relu"), nn.Dense(128, activation="relu"), nn.Dense(2))
    cnn = nn.HybridSequential(prefix="cnn_")
    with cnn.name_scope():
        cnn.add(nn.Conv2D(8, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"),
                nn.MaxPool2D(), nn.Flatten(), nn.Dense(10))
    shared = nn.Sequential(prefix="shared_")
    with shared.name_scope():
        first = nn.Dense(4, in_units=4)
        shared.add(first, nn.Dense(4, in_units=4, params=first.params))
    for block in (mlp, cnn, shared):
        block.initialize()
    return {"mlp": _block_summary(mx, mlp, mx.nd.ones((1, 512))),
            "cnn": _block_summary(mx, cnn, mx.nd.ones((2, 3, 8, 8))),
            "shared": _block_summary(mx, shared, mx.nd.ones((3, 4)))}


def main(path):
    import mxnet as mx
    reference = {"mxnet_version": mx.__version__,
                 "scenarios": {model.__name__: run(mx, model) for model in SCENARIOS},
                 "block_summary": block_summaries(mx)}
    with open(path, "w") as stream:
        json.dump(reference, stream, indent=1)
        stream.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
