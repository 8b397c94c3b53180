"""Record MXNet 1.9.1's numbers for gluon.rnn's parity test (tests/gluon/test_rnn.py).

Run with MXNet's own interpreter (never the project's environment), from the repository root:
    /tmp/mx/bin/python tools/mxnet_rnn_reference.py tests/data/mxnet_rnn_reference.json
(see tools/mxnet_reference.py for installing it). The test imports `scenario` and passes
ast_hybrid in place of mxnet. Weights are set by their MXNet names (l0_i2h_weight, ...,
r0_... for the reverse direction), so both libraries run the same numbers.
"""
import json
import sys

import numpy as np

LAYERS = {
    "lstm": ("LSTM", {"num_layers": 2, "bidirectional": True}),
    "gru": ("GRU", {"num_layers": 2, "layout": "NTC"}),
    "rnn_tanh": ("RNN", {"activation": "tanh", "bidirectional": True}),
}
HIDDEN, INPUT, LENGTH, BATCH = 5, 4, 6, 3


def _param_names(num_layers, dirs):
    return [f"{d}{i}_{w}" for i in range(num_layers) for d in "lr"[:dirs]
            for w in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias")]


def scenario(mx, kind, hybridize_options=None):
    """A layer with fixed weights: outputs without and with given states, then three SGD
    steps on an L2 loss (losses, final outputs). With hybridize_options (a dict), hybridized."""
    nd, autograd, gluon = mx.nd, mx.autograd, mx.gluon
    class_name, options = LAYERS[kind]
    layer = getattr(gluon.rnn, class_name)(HIDDEN, input_size=INPUT, **options)
    layer.initialize()
    rng = np.random.RandomState(0)
    params = layer.collect_params()
    dirs = 2 if options.get("bidirectional") else 1
    gates = {"lstm": 4, "gru": 3}.get(kind, 1)
    for name in _param_names(options.get("num_layers", 1), dirs):
        matches = [p for key, p in params.items() if key.endswith(name)]
        assert len(matches) == 1, (name, list(params.keys()))
        layer_index = int(name[1])
        rows = gates * HIDDEN
        columns = (INPUT if layer_index == 0 else HIDDEN * dirs) if "i2h_weight" in name \
            else HIDDEN
        shape = (rows, columns) if "weight" in name else (rows,)
        matches[0].set_data(nd.array(rng.uniform(-0.5, 0.5, shape).astype("float32")))
    ntc = options.get("layout") == "NTC"
    shape = (BATCH, LENGTH, INPUT) if ntc else (LENGTH, BATCH, INPUT)
    x = nd.array(rng.uniform(-1, 1, shape).astype("float32"))
    out_shape = shape[:2] + (HIDDEN * dirs,)
    target = nd.array(rng.uniform(-1, 1, out_shape).astype("float32"))
    states = [nd.array(rng.uniform(-1, 1, s["shape"]).astype("float32"))
              for s in layer.state_info(BATCH)]
    if hybridize_options is not None:
        layer.hybridize(**hybridize_options)
    result = {"outputs": layer(x).asnumpy().tolist()}
    out, new_states = layer(x, states)
    result["outputs_with_states"] = out.asnumpy().tolist()
    result["states"] = [s.asnumpy().tolist() for s in new_states]
    trainer = gluon.Trainer(layer.collect_params(), "sgd", {"learning_rate": 0.5})
    loss_fn = gluon.loss.L2Loss()
    losses = []
    for _ in range(3):
        with autograd.record():
            loss = loss_fn(layer(x), target)
        loss.backward()
        trainer.step(BATCH)
        losses.append(float(loss.mean().asscalar()))
    result["losses"] = losses
    result["outputs_after"] = layer(x).asnumpy().tolist()
    return result


def main(path):
    import mxnet as mx
    reference = {"mxnet_version": mx.__version__,
                 "scenarios": {kind: scenario(mx, kind) for kind in LAYERS}}
    with open(path, "w") as stream:
        json.dump(reference, stream, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
