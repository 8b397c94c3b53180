"""Convolutional recurrent cells (MXNet 1.x's `gluon.contrib.rnn` Conv1D/2D/3D RNN, LSTM and
GRU cells): the projections of the input and of the hidden state are convolutions, the states
feature maps; the gate maths is gluon.rnn's, split along the channel axis."""
from ...rnn.rnn_cell import _GatedCell
from ...rnn.steps import gru_step, lstm_step, rnn_step


def _per_dimension(value, dims, what):
    if isinstance(value, int):
        return (value,) * dims
    value = tuple(value)
    if len(value) != dims:
        raise AssertionError(f"for {dims}D convolution, {what} must be an int or a tuple of "
                             f"{dims}, not {value}")
    return value


def _conv_out_size(sizes, kernels, pads, dilates):
    """The spatial size of the input's convolution (stride 1); an unknown size (0) stays 0."""
    return tuple(size + 2 * pad - dilate * (kernel - 1) if size else 0
                 for size, kernel, pad, dilate in zip(sizes, kernels, pads, dilates))


class _ConvCell(_GatedCell):
    """A cell on feature maps of `input_shape` (one step's, without the batch, in
    `conv_layout`): i2h a convolution with i2h_kernel/pad/dilate, h2h one with an odd
    h2h_kernel padded to keep the state's size (the input convolution's output size)."""

    def __init__(self, input_shape, hidden_channels, i2h_kernel, h2h_kernel, i2h_pad,
                 i2h_dilate, h2h_dilate, i2h_weight_initializer, h2h_weight_initializer,
                 i2h_bias_initializer, h2h_bias_initializer, dims, conv_layout, activation,
                 prefix, params):
        if not isinstance(activation, str):
            raise TypeError(f"{type(self).__name__}: activation must be the name of an "
                            f"Activation act_type here, not {type(activation).__name__}")
        self._input_shape, self._conv_layout = tuple(input_shape), conv_layout
        self._i2h_kernel = _per_dimension(i2h_kernel, dims, "i2h_kernel")
        self._i2h_pad = _per_dimension(i2h_pad, dims, "i2h_pad")
        self._i2h_dilate = _per_dimension(i2h_dilate, dims, "i2h_dilate")
        self._h2h_kernel = _per_dimension(h2h_kernel, dims, "h2h_kernel")
        self._h2h_dilate = _per_dimension(h2h_dilate, dims, "h2h_dilate")
        if any(k % 2 == 0 for k in self._h2h_kernel):
            raise AssertionError(f"Only support odd number, get h2h_kernel= {h2h_kernel}")
        self._h2h_pad = tuple(d * (k - 1) // 2 for d, k in zip(self._h2h_dilate,
                                                               self._h2h_kernel))
        self._channel_axis = conv_layout.find("C")
        channels_first = self._channel_axis == 1
        sizes = self._input_shape[1:] if channels_first else self._input_shape[:-1]
        out_size = _conv_out_size(sizes, self._i2h_kernel, self._i2h_pad, self._i2h_dilate)
        self._state_shape = ((hidden_channels,) + out_size if channels_first
                             else out_size + (hidden_channels,))
        self._activation = activation
        super().__init__(hidden_channels, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer,
                         self._input_shape[self._channel_axis - 1], prefix, params)

    def _weight_shapes(self, rows):
        if self._channel_axis == 1:
            return ((rows, self._input_size) + self._i2h_kernel,
                    (rows, self._hidden_size) + self._h2h_kernel)
        return ((rows,) + self._i2h_kernel + (self._input_size,),
                (rows,) + self._h2h_kernel + (self._hidden_size,))

    def _state(self, batch_size):
        return {"shape": (batch_size,) + self._state_shape, "__layout__": self._conv_layout}

    def _projections(self, F, inputs, hidden, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        filters = self._gates * self._hidden_size
        stride = (1,) * len(self._i2h_kernel)
        i2h = F.Convolution(inputs, i2h_weight, i2h_bias, num_filter=filters,
                            kernel=self._i2h_kernel, stride=stride, pad=self._i2h_pad,
                            dilate=self._i2h_dilate, layout=self._conv_layout, name="i2h")
        h2h = F.Convolution(hidden, h2h_weight, h2h_bias, num_filter=filters,
                            kernel=self._h2h_kernel, stride=stride, pad=self._h2h_pad,
                            dilate=self._h2h_dilate, layout=self._conv_layout, name="h2h")
        return i2h, h2h

    def __repr__(self):
        shape = self.i2h_weight.shape
        in_channels = shape[1 if self._channel_axis == 1 else -1]
        return (f"{type(self).__name__}({in_channels if in_channels else None} -> {shape[0]}, "
                f"{self._activation}, {self._conv_layout})")


class _ConvRNNCell(_ConvCell):
    def _alias(self):
        return "conv_rnn"

    def _step(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        i2h, h2h = self._projections(F, inputs, states[0], i2h_weight, h2h_weight, i2h_bias,
                                     h2h_bias)
        output = rnn_step(F, i2h, h2h, self._activation)
        return output, [output]


class _ConvLSTMCell(_ConvCell):
    _gates = 4

    def _alias(self):
        return "conv_lstm"

    def state_info(self, batch_size=0):
        return [self._state(batch_size), self._state(batch_size)]

    def _step(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        i2h, h2h = self._projections(F, inputs, states[0], i2h_weight, h2h_weight, i2h_bias,
                                     h2h_bias)
        next_h, next_c = lstm_step(F, i2h, h2h, states[1], self._activation,
                                   axis=self._channel_axis)
        return next_h, [next_h, next_c]


class _ConvGRUCell(_ConvCell):
    _gates = 3

    def _alias(self):
        return "conv_gru"

    def _step(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        i2h, h2h = self._projections(F, inputs, states[0], i2h_weight, h2h_weight, i2h_bias,
                                     h2h_bias)
        next_h = gru_step(F, i2h, h2h, states[0], self._activation, axis=self._channel_axis)
        return next_h, [next_h]


def _cell_class(base, dims, layout):
    """The public cell of `base`'s kind for `dims` spatial dimensions: MXNet's signature,
    with its defaults for that many dimensions."""
    def __init__(self, input_shape, hidden_channels, i2h_kernel, h2h_kernel,
                 i2h_pad=(0,) * dims, i2h_dilate=(1,) * dims, h2h_dilate=(1,) * dims,
                 i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros",
                 conv_layout=layout, activation="tanh", prefix=None, params=None):
        base.__init__(self, input_shape, hidden_channels, i2h_kernel, h2h_kernel, i2h_pad,
                      i2h_dilate, h2h_dilate, i2h_weight_initializer, h2h_weight_initializer,
                      i2h_bias_initializer, h2h_bias_initializer, dims, conv_layout,
                      activation, prefix, params)

    kind = base.__name__[len("_Conv"):-len("Cell")]
    name = f"Conv{dims}D{kind}Cell"
    doc = (f"{dims}D convolutional {kind} cell on inputs of `input_shape` (one step's, in "
           f"`conv_layout`, default {layout}).")
    return type(name, (base,), {"__init__": __init__, "__doc__": doc,
                                "__module__": __name__, "__qualname__": name})


Conv1DRNNCell = _cell_class(_ConvRNNCell, 1, "NCW")
Conv2DRNNCell = _cell_class(_ConvRNNCell, 2, "NCHW")
Conv3DRNNCell = _cell_class(_ConvRNNCell, 3, "NCDHW")
Conv1DLSTMCell = _cell_class(_ConvLSTMCell, 1, "NCW")
Conv2DLSTMCell = _cell_class(_ConvLSTMCell, 2, "NCHW")
Conv3DLSTMCell = _cell_class(_ConvLSTMCell, 3, "NCDHW")
Conv1DGRUCell = _cell_class(_ConvGRUCell, 1, "NCW")
Conv2DGRUCell = _cell_class(_ConvGRUCell, 2, "NCHW")
Conv3DGRUCell = _cell_class(_ConvGRUCell, 3, "NCDHW")
