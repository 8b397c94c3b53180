"""Record MXNet 1.9.1's numbers for gluon.rnn's parity test (tests/gluon/test_rnn.py).

Run with MXNet's own interpreter (never the project's environment), from the repository root:
    /tmp/mx/bin/python tools/mxnet_rnn_reference.py tests/data/mxnet_rnn_reference.json
(see tools/mxnet_reference.py for installing it). The test imports `scenario` and passes
ast_hybrid in place of mxnet. A layer's weights are set by their MXNet names (l0_i2h_weight,
..., r0_... for the reverse direction), a cell's in collect_params() order, so both libraries
run the same numbers; cell_scenario records the cells imperatively and hybridized.
"""
import json
import sys
import tempfile

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


def _stacked_cell(rnn):
    cell = rnn.HybridSequentialRNNCell()
    cell.add(rnn.LSTMCell(HIDDEN, input_size=INPUT))
    cell.add(rnn.GRUCell(HIDDEN, input_size=HIDDEN))
    return cell


CELLS = {
    "lstm_cell": lambda rnn: rnn.LSTMCell(HIDDEN, input_size=INPUT),
    "gru_cell": lambda rnn: rnn.GRUCell(HIDDEN, input_size=INPUT),
    "rnn_tanh_cell": lambda rnn: rnn.RNNCell(HIDDEN, input_size=INPUT),
    "rnn_relu_cell": lambda rnn: rnn.RNNCell(HIDDEN, activation="relu", input_size=INPUT),
    "stacked_cell": _stacked_cell,
}

# MXNet's HybridSequentialRNNCell calls its cells one by one from Python: it has no graph
EXPORTED = [kind for kind in CELLS if kind != "stacked_cell"]


def cell_scenario(mx, kind, hybridize_options=None):
    """A cell with fixed weights (set in collect_params() order, which both libraries share):
    one step at batch BATCH, then at BATCH + 2; under autograd.record(), a step and an unroll
    from its states, and the gradients of a weighted sum of their outputs and states for the
    inputs, the states and the parameters. With hybridize_options (a dict), hybridized."""
    nd, autograd = mx.nd, mx.autograd
    cell = CELLS[kind](mx.gluon.rnn)
    cell.initialize()
    rng = np.random.RandomState(1)
    params = list(cell.collect_params().values())
    for param in params:
        param.set_data(nd.array(rng.uniform(-0.5, 0.5, param.shape).astype("float32")))

    def uniform(shape):
        return nd.array(rng.uniform(-1, 1, shape).astype("float32"))

    def step_inputs(batch):
        return uniform((batch, INPUT)), [uniform(s["shape"]) for s in cell.state_info(batch)]

    x, states = step_inputs(BATCH)
    x_wide, states_wide = step_inputs(BATCH + 2)
    sequence = uniform((BATCH, LENGTH, INPUT))
    if hybridize_options is not None:
        cell.hybridize(**hybridize_options)
    result = {}
    for key, (data, given) in (("step", (x, states)), ("step_wide", (x_wide, states_wide))):
        out, new = cell(data, given)
        result[key] = [a.asnumpy().tolist() for a in [out] + list(new)]
    for array in [x, sequence] + states:
        array.attach_grad()
    with autograd.record():
        out, new = cell(x, states)
        outs, last = cell.unroll(LENGTH, sequence, begin_state=new, layout="NTC",
                                 merge_outputs=True)
        heads = [out] + list(new) + [outs] + list(last)
        loss = sum((head * uniform(head.shape)).sum() for head in heads)
    loss.backward()
    result["heads"] = [head.asnumpy().tolist() for head in heads]
    result["gradients"] = [a.grad.asnumpy().tolist() for a in [x, sequence] + states] + [
        param.grad().asnumpy().tolist() for param in params]
    return result


def export_scenario(mx, kind, directory):
    """A cell hybridized, called once, exported and imported back: the graph's arguments (a
    block's name prefix, `lstm0_` in MXNet, left out), its number of outputs, and the imported
    block's outputs beside the cell's."""
    import os
    import re
    nd = mx.nd
    cell = CELLS[kind](mx.gluon.rnn)
    cell.initialize()
    rng = np.random.RandomState(2)
    x = nd.array(rng.uniform(-1, 1, (BATCH, INPUT)).astype("float32"))
    states = [nd.array(rng.uniform(-1, 1, s["shape"]).astype("float32"))
              for s in cell.state_info(BATCH)]
    cell.hybridize()
    out, new = cell(x, states)
    path = os.path.join(directory, kind)
    cell.export(path)
    graph = mx.sym.load(path + "-symbol.json")
    inputs = [f"data{i}" for i in range(1 + len(states))]
    imported = mx.gluon.SymbolBlock.imports(path + "-symbol.json", inputs, path + "-0000.params")
    return {"arguments": [re.sub(r"^[a-z]+\d+_", "", name) for name in graph.list_arguments()],
            "outputs": len(graph.list_outputs()),
            "cell": [a.asnumpy() for a in [out] + list(new)],
            "imported": [a.asnumpy() for a in imported(x, *states)]}


def main(path):
    import mxnet as mx
    reference = {"mxnet_version": mx.__version__,
                 "scenarios": {kind: scenario(mx, kind) for kind in LAYERS},
                 "cells": {kind: cell_scenario(mx, kind) for kind in CELLS},
                 "hybridized_cells": {kind: cell_scenario(mx, kind, {}) for kind in CELLS},
                 "exports": {}}
    with tempfile.TemporaryDirectory() as directory:
        for kind in EXPORTED:
            exported = export_scenario(mx, kind, directory)
            for got, want in zip(exported["imported"], exported["cell"]):
                np.testing.assert_allclose(got, want, rtol=1e-6)
            reference["exports"][kind] = {"arguments": exported["arguments"],
                                          "outputs": exported["outputs"]}
    with open(path, "w") as stream:
        json.dump(reference, stream, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
