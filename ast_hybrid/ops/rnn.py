"""The fused RNN operator (MXNet's `RNN`, with `_rnn_param_concat`): what a traced or
exported recurrent layer is, in MXNet's (and cuDNN's) parameter layout.

Its numpy kernel runs every layer and direction over time; its gradient is backpropagation
through time over the same steps. The gate maths is that of gluon/rnn/steps.py (LSTM i, f,
g, o; GRU r, z, n with the reset gate on h2h's output, bias included), which the cells and
AST mode's compiled layers use; tests check the operator against both and against MXNet.
"""
import numpy as np

from . import attrs as A
from .registry import VARIADIC, Op, OpError, check_arrays, register
from .shapes import known, require

MODES = ("rnn_relu", "rnn_tanh", "lstm", "gru")
GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}


def _inputs(attrs):
    names = ["data", "parameters", "state"]
    if attrs is None or attrs["mode"] == "lstm":
        names.append("state_cell")
    return tuple(names)


def _outputs(attrs):
    if not attrs["state_outputs"]:
        return 1
    return 3 if attrs["mode"] == "lstm" else 2


def parameter_count(mode, state_size, num_layers, bidirectional, input_size):
    """The length of the flat parameter vector: every weight, then every bias."""
    gates, directions = GATES[mode] * state_size, 2 if bidirectional else 1
    total, size = 0, input_size
    for _ in range(num_layers):
        total += directions * (gates * size + gates * state_size + 2 * gates)
        size = state_size * directions
    return total


def _unpack(parameters, mode, state_size, num_layers, directions, input_size):
    """[(i2h_weight, h2h_weight, i2h_bias, h2h_bias)] per (layer, direction), views of the
    flat vector laid out as MXNet's _rnn_param_concat lays it out."""
    gates = GATES[mode] * state_size
    shapes, size = [], input_size
    for _ in range(num_layers):
        shapes += [((gates, size), (gates, state_size))] * directions
        size = state_size * directions
    offset, weights = 0, []
    for i2h_shape, h2h_shape in shapes:
        i2h = parameters[offset:offset + i2h_shape[0] * i2h_shape[1]].reshape(i2h_shape)
        offset += i2h.size
        h2h = parameters[offset:offset + h2h_shape[0] * h2h_shape[1]].reshape(h2h_shape)
        offset += h2h.size
        weights.append((i2h, h2h))
    biases = []
    for _ in shapes:
        biases.append((parameters[offset:offset + gates], parameters[offset + gates:
                                                                     offset + 2 * gates]))
        offset += 2 * gates
    return [w + b for w, b in zip(weights, biases)]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _direction_forward(mode, x, h, c, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
    """One layer in one direction over (T, N, C) x: (outputs (T, N, H), h, c, steps), steps
    keeping what the backward pass needs."""
    i2h_all = x @ i2h_weight.T + i2h_bias
    outputs, steps = [], []
    for t in range(x.shape[0]):
        h2h = h @ h2h_weight.T + h2h_bias
        if mode == "lstm":
            gates = i2h_all[t] + h2h
            i, f, g, o = np.split(gates, 4, axis=1)
            i, f, g, o = _sigmoid(i), _sigmoid(f), np.tanh(g), _sigmoid(o)
            c_next = f * c + i * g
            tanh_c = np.tanh(c_next)
            steps.append((h, c, i, f, g, o, tanh_c))
            h, c = o * tanh_c, c_next
        elif mode == "gru":
            i_r, i_z, i_n = np.split(i2h_all[t], 3, axis=1)
            h_r, h_z, h_n = np.split(h2h, 3, axis=1)
            r, z = _sigmoid(i_r + h_r), _sigmoid(i_z + h_z)
            n = np.tanh(i_n + r * h_n)
            steps.append((h, r, z, n, h_n))
            h = (1 - z) * n + z * h
        else:
            pre = i2h_all[t] + h2h
            h_next = np.tanh(pre) if mode == "rnn_tanh" else np.maximum(pre, 0)
            steps.append((h, h_next))
            h = h_next
        outputs.append(h)
    return np.stack(outputs), h, c, steps


def _direction_backward(mode, x, weights, steps, d_out, d_h, d_c):
    """Gradients (dx, d_i2h_weight, d_h2h_weight, d_i2h_bias, d_h2h_bias, d_h0, d_c0) of one
    direction's forward, given the gradients of its outputs and final states."""
    i2h_weight, h2h_weight = weights[0], weights[1]
    d_i2h_all = np.zeros(x.shape[:2] + (i2h_weight.shape[0],), dtype=x.dtype)
    d_h2h_weight = np.zeros_like(h2h_weight)
    d_h2h_bias = np.zeros(h2h_weight.shape[0], dtype=x.dtype)
    for t in range(x.shape[0] - 1, -1, -1):
        d_h = d_h + d_out[t]
        if mode == "lstm":
            h_prev, c_prev, i, f, g, o, tanh_c = steps[t]
            d_o = d_h * tanh_c
            d_c = d_c + d_h * o * (1 - tanh_c * tanh_c)
            d_gates = np.concatenate([d_c * g * i * (1 - i), d_c * c_prev * f * (1 - f),
                                      d_c * i * (1 - g * g), d_o * o * (1 - o)], axis=1)
            d_c = d_c * f
            d_i2h, d_h2h = d_gates, d_gates
            d_h = np.zeros_like(d_h)        # h_prev reaches h only through the gates
        elif mode == "gru":
            h_prev, r, z, n, h_n = steps[t]
            d_n = d_h * (1 - z) * (1 - n * n)
            d_z = d_h * (h_prev - n) * z * (1 - z)
            d_r = d_n * h_n * r * (1 - r)
            d_i2h = np.concatenate([d_r, d_z, d_n], axis=1)
            d_h2h = np.concatenate([d_r, d_z, d_n * r], axis=1)
            d_h = d_h * z
        else:
            h_prev, h_next = steps[t]
            slope = 1 - h_next * h_next if mode == "rnn_tanh" else (h_next > 0)
            d_i2h = d_h2h = d_h * slope
            d_h = np.zeros_like(d_h)
        d_i2h_all[t] = d_i2h
        d_h2h_weight += d_h2h.T @ h_prev
        d_h2h_bias += d_h2h.sum(axis=0)
        d_h = d_h + d_h2h @ h2h_weight
    flat = d_i2h_all.reshape(-1, d_i2h_all.shape[-1])
    d_i2h_weight = flat.T @ x.reshape(-1, x.shape[-1])
    dx = d_i2h_all @ i2h_weight
    return dx, d_i2h_weight, d_h2h_weight, flat.sum(axis=0), d_h2h_bias, d_h, d_c


def _check_supported(attrs):
    for key, default in (("projection_size", None), ("lstm_state_clip_min", None),
                         ("lstm_state_clip_max", None), ("use_sequence_length", False)):
        if attrs.get(key, default) != default:
            raise OpError(f"RNN: attribute {key}={attrs[key]!r} is not supported")


def _run(data, parameters, state, state_cell, attrs, training):
    _check_supported(attrs)
    mode, hidden, layers = attrs["mode"], attrs["state_size"], attrs["num_layers"]
    directions = 2 if attrs["bidirectional"] else 1
    weights = _unpack(parameters, mode, hidden, layers, directions, data.shape[2])
    x, final_h, final_c, caches = data, [], [], []
    for layer in range(layers):
        outs = []
        for direction in range(directions):
            index = layer * directions + direction
            c0 = state_cell[index] if state_cell is not None else state[index]
            seq = x[::-1] if direction else x
            out, h, c, steps = _direction_forward(mode, seq, state[index], c0, *weights[index])
            outs.append(out[::-1] if direction else out)
            final_h.append(h)
            final_c.append(c)
            caches.append((seq, steps))
        layer_input = x
        x = np.concatenate(outs, axis=2) if directions > 1 else outs[0]
        mask = None
        if attrs["p"] > 0 and training and layer + 1 < layers:
            raise OpError("RNN: dropout between layers (p > 0) while training is not "
                          "supported by the fused operator; AST mode's compiled layers "
                          "support it")
        caches.append((layer_input, mask))
    return x, np.stack(final_h), np.stack(final_c), weights, caches


def _rnn(data, parameters, state, state_cell=None, *, state_size, num_layers, mode,
         bidirectional=False, p=0.0, state_outputs=False, projection_size=None,
         lstm_state_clip_min=None, lstm_state_clip_max=None, lstm_state_clip_nan=False,
         use_sequence_length=False, training=False):
    attrs = dict(state_size=state_size, num_layers=num_layers, mode=mode,
                 bidirectional=bidirectional, p=p, state_outputs=state_outputs,
                 projection_size=projection_size, lstm_state_clip_min=lstm_state_clip_min,
                 lstm_state_clip_max=lstm_state_clip_max,
                 lstm_state_clip_nan=lstm_state_clip_nan,
                 use_sequence_length=use_sequence_length)
    # the shape rule's error where imperative mode raises one (a program calls the kernel)
    check_arrays("RNN", attrs, [data, parameters, state] + (
        [state_cell] if mode == "lstm" else []))
    out, h, c, _, _ = _run(data, parameters, state, state_cell, attrs, training)
    out = out.astype(data.dtype, copy=False)
    if not state_outputs:
        return out
    if mode == "lstm":
        return out, h.astype(data.dtype, copy=False), c.astype(data.dtype, copy=False)
    return out, h.astype(data.dtype, copy=False)


def _rnn_shape(attrs, in_shapes):
    data = known("RNN", in_shapes)[0]
    require(len(data) == 3, "RNN", "data must be (sequence, batch, features)", in_shapes)
    directions = 2 if attrs["bidirectional"] else 1
    states = (attrs["num_layers"] * directions, data[1], attrs["state_size"])
    count = parameter_count(attrs["mode"], attrs["state_size"], attrs["num_layers"],
                            attrs["bidirectional"], data[2])
    filled = [data, (count,), states] + ([states] if attrs["mode"] == "lstm" else [])
    for given, wanted in zip(in_shapes, filled):
        require(given is None or tuple(given) == wanted, "RNN",
                f"inputs must have shapes {filled}", in_shapes)
    out = (data[0], data[1], attrs["state_size"] * directions)
    return filled, [out, states, states][:_outputs(attrs)]


def _rnn_grad(attrs, inputs, outputs, out_grads):
    data, parameters, state = inputs[:3]
    state_cell = inputs[3] if attrs["mode"] == "lstm" else None
    mode, layers = attrs["mode"], attrs["num_layers"]
    directions = 2 if attrs["bidirectional"] else 1
    _, _, _, weights, caches = _run(data, parameters, state, state_cell, attrs,
                                    attrs.get("training", False))
    d_out = out_grads[0]
    d_hy = out_grads[1] if len(out_grads) > 1 and out_grads[1] is not None else None
    d_cy = out_grads[2] if len(out_grads) > 2 and out_grads[2] is not None else None
    d_weights = [None] * len(weights)
    d_state = np.zeros_like(state)
    d_state_cell = np.zeros_like(state) if state_cell is not None else None
    hidden = attrs["state_size"]
    for layer in range(layers - 1, -1, -1):
        layer_caches = caches[layer * (directions + 1):(layer + 1) * (directions + 1)]
        layer_input = layer_caches[-1][0]
        d_input = np.zeros_like(layer_input)
        for direction in range(directions):
            index = layer * directions + direction
            seq, steps = layer_caches[direction]
            part = d_out[:, :, direction * hidden:(direction + 1) * hidden]
            part = part[::-1] if direction else part
            d_h = d_hy[index] if d_hy is not None else np.zeros_like(state[index])
            d_c = d_cy[index] if d_cy is not None else np.zeros_like(state[index])
            dx, *d_params, d_h0, d_c0 = _direction_backward(mode, seq, weights[index], steps,
                                                           part, d_h, d_c)
            d_input += dx[::-1] if direction else dx
            d_weights[index] = d_params
            if mode == "lstm":
                d_state[index], d_state_cell[index] = d_h0, d_c0
            else:
                d_state[index] = d_h0
        d_out = d_input
    flat = [w for d in d_weights for w in (d[0].ravel(), d[1].ravel())]
    flat += [b for d in d_weights for b in (d[2], d[3])]
    grads = [d_out.astype(data.dtype), np.concatenate(flat).astype(parameters.dtype),
             d_state.astype(state.dtype)]
    if state_cell is not None:
        grads.append(d_state_cell.astype(state_cell.dtype))
    return grads


register(Op("RNN", _rnn, _rnn_shape, inputs=_inputs, num_outputs=_outputs,
            mode_dependent=True, grad=_rnn_grad,
            attrs={"state_size": A.Int(), "num_layers": A.Int(), "mode": A.Str(choices=MODES),
                   "bidirectional": A.Bool(False), "p": A.Float(0.0),
                   "state_outputs": A.Bool(False), "projection_size": A.OptInt(None),
                   "lstm_state_clip_min": A.OptFloat(None),
                   "lstm_state_clip_max": A.OptFloat(None),
                   "lstm_state_clip_nan": A.Bool(False),
                   "use_sequence_length": A.Bool(False)}))


def _param_concat(*arrays, num_args, dim=0):
    return np.concatenate([a.reshape(-1) for a in arrays])


def _param_concat_shape(attrs, in_shapes):
    shapes = known("_rnn_param_concat", in_shapes)
    return shapes, [(sum(int(np.prod(s)) for s in shapes),)]


def _param_concat_grad(attrs, inputs, outputs, out_grads):
    bounds = np.cumsum([x.size for x in inputs])[:-1]
    return [g.reshape(x.shape) for g, x in zip(np.split(out_grads[0], bounds), inputs)]


register(Op("_rnn_param_concat", _param_concat, _param_concat_shape, inputs=VARIADIC,
            grad=_param_concat_grad, attrs={"num_args": A.Int(), "dim": A.Int(0)}))
