"""The gate maths of one recurrent time step, written once for the cells and the layers.

Each function takes F and the two projections of a step, i2h (of the input) and h2h (of the
previous hidden state), each (batch, gates * hidden, ...) with the gates along `axis` (the
channels of a convolutional cell's feature maps), in MXNet's (and cuDNN's) gate order:
LSTM i, f, g, o; GRU r, z, n with the reset gate applied to h2h's output, bias included.
They receive F, so AST mode inlines them while compiling; the names are the graph nodes'."""


def rnn_step(F, i2h, h2h, activation):
    """Elman: h' = activation(i2h + h2h)."""
    return F.Activation(i2h + h2h, act_type=activation, name="out")


def lstm_step(F, i2h, h2h, c, activation="tanh", recurrent_activation="sigmoid", axis=1):
    """(h', c'): c' = f * c + i * g, h' = o * activation(c')."""
    gates = F.split(i2h + h2h, num_outputs=4, axis=axis, name="slice")
    in_gate = F.Activation(gates[0], act_type=recurrent_activation, name="i")
    forget_gate = F.Activation(gates[1], act_type=recurrent_activation, name="f")
    in_transform = F.Activation(gates[2], act_type=activation, name="c")
    out_gate = F.Activation(gates[3], act_type=recurrent_activation, name="o")
    next_c = forget_gate * c + in_gate * in_transform
    next_h = out_gate * F.Activation(next_c, act_type=activation, name="out")
    return next_h, next_c


def gru_step(F, i2h, h2h, h, activation="tanh", recurrent_activation="sigmoid", axis=1):
    """h' = (1 - z) * n + z * h, n = activation(i2h_n + r * h2h_n)."""
    i2h_parts = F.split(i2h, num_outputs=3, axis=axis, name="i2h_slice")
    h2h_parts = F.split(h2h, num_outputs=3, axis=axis, name="h2h_slice")
    reset_gate = F.Activation(i2h_parts[0] + h2h_parts[0], act_type=recurrent_activation,
                              name="r_act")
    update_gate = F.Activation(i2h_parts[1] + h2h_parts[1], act_type=recurrent_activation,
                               name="z_act")
    candidate = F.Activation(i2h_parts[2] + reset_gate * h2h_parts[2], act_type=activation,
                             name="h_act")
    return (1 - update_gate) * candidate + update_gate * h
