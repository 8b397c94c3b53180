"""Record MXNet 1.9.1's numbers for gluon.contrib.rnn's tests (tests/gluon/test_contrib_rnn.py).

Run with MXNet's own interpreter (never the project's environment), from the repository root:
    /tmp/mx/bin/python tools/mxnet_contrib_rnn_reference.py \
        tests/data/mxnet_contrib_rnn_reference.json
(see tools/mxnet_reference.py for installing it). The test imports the scenarios and passes
ast_hybrid in place of mxnet. Weights are set in collect_params() order, which both libraries
share, so both run the same numbers.
"""
import json
import sys

import numpy as np

HIDDEN, PROJECTION, INPUT, LENGTH, BATCH = 4, 3, 5, 3, 2
CONV_INPUT = {1: (2, 6), 2: (2, 4, 4), 3: (1, 3, 3, 3)}

CELLS = {
    "lstmp": lambda crnn: crnn.LSTMPCell(HIDDEN, PROJECTION, input_size=INPUT),
    "conv1d_rnn": lambda crnn: crnn.Conv1DRNNCell(CONV_INPUT[1], 3, 3, 3, i2h_pad=1,
                                                  activation="relu"),
    "conv1d_lstm": lambda crnn: crnn.Conv1DLSTMCell(CONV_INPUT[1], 3, 3, 5, h2h_dilate=2),
    "conv1d_gru": lambda crnn: crnn.Conv1DGRUCell(CONV_INPUT[1], 3, 2, 3, i2h_dilate=2),
    "conv2d_rnn": lambda crnn: crnn.Conv2DRNNCell(CONV_INPUT[2], 3, 3, 3, i2h_pad=1),
    "conv2d_lstm": lambda crnn: crnn.Conv2DLSTMCell(CONV_INPUT[2], 3, (3, 1), 3,
                                                    i2h_pad=(1, 0)),
    "conv2d_gru": lambda crnn: crnn.Conv2DGRUCell(CONV_INPUT[2], 2, 3, (3, 1), i2h_pad=1),
    "conv3d_rnn": lambda crnn: crnn.Conv3DRNNCell(CONV_INPUT[3], 2, 2, 3),
    "conv3d_lstm": lambda crnn: crnn.Conv3DLSTMCell(CONV_INPUT[3], 2, 3, 1),
    "conv3d_gru": lambda crnn: crnn.Conv3DGRUCell(CONV_INPUT[3], 2, 3, 3, i2h_pad=(1, 1, 0)),
}


def describe(mx):
    """Each cell's prefix, parameters (names and shapes, in order), states and repr; LSTMP
    with a deferred input size; a VariationalDropoutCell's over an LSTMCell."""
    crnn = mx.gluon.contrib.rnn
    result = {}
    with mx.name.NameManager():
        made = {kind: make(crnn) for kind, make in CELLS.items()}
        made["lstmp_deferred"] = crnn.LSTMPCell(HIDDEN, PROJECTION)
        made["vardrop"] = crnn.VariationalDropoutCell(
            mx.gluon.rnn.LSTMCell(HIDDEN), drop_inputs=0.5, drop_states=0.25, drop_outputs=0.1)
    for kind, cell in made.items():
        result[kind] = {"prefix": cell.prefix, "repr": repr(cell),
                        "params": [[name, list(param.shape)]
                                   for name, param in cell.collect_params().items()],
                        "states": [list(info["shape"]) for info in cell.state_info(BATCH)],
                        "layouts": [info["__layout__"] for info in cell.state_info(BATCH)]}
    return result


def _listed(array):
    """An array's values as nested lists, to 6 significant digits (the file stays small)."""
    return np.vectorize(lambda v: float(f"{v:.6g}"), otypes=[float])(array.asnumpy()).tolist()


def _set_weights(cell, rng, nd):
    for param in cell.collect_params().values():
        param.set_data(nd.array(rng.uniform(-0.5, 0.5, param.shape).astype("float32")))


def _step_shape(kind):
    if kind.startswith("conv"):
        return CONV_INPUT[int(kind[4])]
    return (INPUT,)


def cell_scenario(mx, kind, hybridize_options=None):
    """A cell with fixed weights: a step; under autograd.record(), a step and an unroll (NTC)
    from its states, and the gradients of a weighted sum of their outputs and states for the
    inputs, the states and the parameters. With hybridize_options (a dict), hybridized."""
    nd, autograd = mx.nd, mx.autograd
    cell = CELLS[kind](mx.gluon.contrib.rnn)
    cell.initialize()
    rng = np.random.RandomState(3)
    _set_weights(cell, rng, nd)

    def uniform(shape):
        return nd.array(rng.uniform(-1, 1, shape).astype("float32"))

    x = uniform((BATCH,) + _step_shape(kind))
    states = [uniform(info["shape"]) for info in cell.state_info(BATCH)]
    sequence = uniform((BATCH, LENGTH) + _step_shape(kind))
    if hybridize_options is not None:
        cell.hybridize(**hybridize_options)
    out, new = cell(x, states)
    result = {"step": [_listed(a) for a in [out] + list(new)]}
    for array in [x, sequence] + states:
        array.attach_grad()
    with autograd.record():
        out, new = cell(x, states)
        outs, last = cell.unroll(LENGTH, sequence, begin_state=new, layout="NTC",
                                 merge_outputs=True)
        heads = [out] + list(new) + [outs] + list(last)
        loss = sum((head * uniform(head.shape)).sum() for head in heads)
    loss.backward()
    result["heads"] = [_listed(head) for head in heads]
    result["gradients"] = [_listed(a.grad) for a in [x, sequence] + states] + [
        _listed(param.grad()) for param in cell.collect_params().values()]
    return result


def vardrop_scenario(mx, drop_states):
    """A VariationalDropoutCell over an LSTMCell with fixed weights, outside training (its
    dropouts are the identity): a step, an unroll of a tensor (merge_outputs left None) and
    of a list of steps (merge_outputs=False), beside the base cell's own unroll."""
    nd = mx.nd
    base = mx.gluon.rnn.LSTMCell(HIDDEN, input_size=INPUT)
    cell = mx.gluon.contrib.rnn.VariationalDropoutCell(base, drop_inputs=0.5,
                                                       drop_states=drop_states,
                                                       drop_outputs=0.3)
    cell.initialize()
    rng = np.random.RandomState(4)
    _set_weights(cell, rng, nd)
    sequence = nd.array(rng.uniform(-1, 1, (BATCH, LENGTH, INPUT)).astype("float32"))
    states = [nd.array(rng.uniform(-1, 1, info["shape"]).astype("float32"))
              for info in cell.state_info(BATCH)]
    out, new = cell(sequence[:, 0], states)
    result = {"step": [_listed(a) for a in [out] + list(new)]}
    cell.reset()
    outs, last = cell.unroll(LENGTH, sequence, begin_state=states, layout="NTC")
    result["merged"] = not isinstance(outs, list)
    result["unroll"] = [_listed(a) for a in
                        ([outs] if result["merged"] else list(outs)) + list(last)]
    listed, _ = cell.unroll(LENGTH, [sequence[:, t] for t in range(LENGTH)], layout="NTC",
                            merge_outputs=False)
    result["listed"] = [_listed(a) for a in listed]
    base_outs, _ = base.unroll(LENGTH, sequence, begin_state=states, layout="NTC",
                               merge_outputs=True)
    result["base_unroll"] = _listed(base_outs)
    return result


def main(path):
    import mxnet as mx
    reference = {"mxnet_version": mx.__version__, "describe": describe(mx),
                 "cells": {kind: cell_scenario(mx, kind) for kind in CELLS},
                 "vardrop": {str(p): vardrop_scenario(mx, p) for p in (0.0, 0.4)}}
    # MXNet's hybridized cells compute the same (kept out of the file: one copy suffices)
    for kind in CELLS:
        hybridized = cell_scenario(mx, kind, {})
        for key in ("step", "heads", "gradients"):
            for got, want in zip(hybridized[key], reference["cells"][kind][key]):
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    with open(path, "w") as stream:
        json.dump(reference, stream, indent=None, separators=(",", ":"))


if __name__ == "__main__":
    main(sys.argv[1])
