"""Record graphs MXNet 1.9.1 exports for hybridized recurrent layers (its fused RNN operator),
with their weights and outputs.

Run with MXNet's own interpreter (never the project's environment), from the repository root:
    /tmp/mx/bin/python tools/mxnet_fused_rnn_reference.py tests/data/mxnet_fused_rnn_reference.json
(see tools/mxnet_reference.py for installing it). tests/gluon/test_rnn_fused.py loads each
graph into a SymbolBlock, gives it the recorded weights and compares the outputs.
"""
import json
import os
import sys
import tempfile

import numpy as np

LAYERS = {
    "lstm_bidirectional": ("LSTM", {"num_layers": 2, "bidirectional": True}),
    "gru_ntc": ("GRU", {"num_layers": 2, "layout": "NTC"}),
    "rnn_relu": ("RNN", {"activation": "relu"}),
}
HIDDEN, INPUT, LENGTH, BATCH = 4, 3, 5, 2


def record(mx, kind):
    class_name, options = LAYERS[kind]
    layer = getattr(mx.gluon.rnn, class_name)(HIDDEN, input_size=INPUT, **options)
    layer.initialize(mx.init.Uniform(0.5))
    layer.hybridize()
    rng = np.random.RandomState(3)
    shape = (BATCH, LENGTH, INPUT) if options.get("layout") == "NTC" else (LENGTH, BATCH, INPUT)
    x = rng.uniform(-1, 1, shape).astype(np.float32)
    out = layer(mx.nd.array(x))
    with tempfile.TemporaryDirectory() as folder:
        layer.export(os.path.join(folder, "layer"))
        with open(os.path.join(folder, "layer-symbol.json")) as stream:
            graph = stream.read()
    return {"graph": graph, "input": x.tolist(), "output": out.asnumpy().tolist(),
            "weights": {k: p.data().asnumpy().tolist()
                        for k, p in layer.collect_params().items()}}


def main(path):
    import mxnet as mx
    reference = {"mxnet_version": mx.__version__,
                 "layers": {kind: record(mx, kind) for kind in LAYERS}}
    with open(path, "w") as stream:
        json.dump(reference, stream, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
