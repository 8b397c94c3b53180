"""Recurrent cells (MXNet 1.x's gluon.rnn cells): one time step each, `cell(x_t, states)` ->
(output, new_states), and `unroll` over a sequence.

The gate maths is steps.py's, shared with the layers."""
from ... import ndarray, symbol
from ..block import Block, HybridBlock
from .steps import gru_step, lstm_step, rnn_step


def _flat_states(F, states):
    """The states given as `[h, c]` or as `h, c` -> [h, c]: a hybridized block is called with
    arrays, not lists of them. (F is passed so that AST mode inlines this while compiling.)"""
    flat = []
    for state in states:       # (a loop over the arguments: AST mode unrolls it)
        if isinstance(state, (list, tuple)):
            flat = flat + list(state)
        else:
            flat = flat + [state]
    return flat


class RecurrentCell(Block):
    """Base of the recurrent cells: states, begin_state, unroll."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def reset(self):
        """Kept for MXNet scripts; cells here keep no per-unroll counters."""
        for cell in self._children.values():
            if isinstance(cell, RecurrentCell):
                cell.reset()

    def state_info(self, batch_size=0):
        raise NotImplementedError()

    def begin_state(self, batch_size=0, func=ndarray.zeros, **kwargs):
        """The initial states, one `func(shape=..., **kwargs)` per entry of state_info."""
        states = []
        for info in self.state_info(batch_size):
            info = dict(info or {})
            info.update(kwargs)
            info.pop("__layout__", None)
            states.append(func(**info))
        return states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None,
               valid_length=None):
        """Run the cell `length` steps over `inputs` (one tensor in `layout`, or a list of
        `length` arrays of shape (batch, features)); returns (outputs, last states). Outputs
        are a list unless merge_outputs=True (or inputs were one tensor and merge_outputs is
        None... as MXNet: a list unless merge_outputs is True)."""
        if valid_length is not None:
            raise NotImplementedError("unroll(valid_length=...) is not supported")
        self.reset()
        axis = layout.find("T")
        # written so that AST mode can inline it into a caller's hybrid_forward: operators
        # through tiny hybrid blocks (they receive F), lists grown by `+`, not append
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != length:
                raise ValueError(f"unroll: {len(inputs)} inputs given for length {length}")
            steps = list(inputs)
        elif length == 1:
            steps = [_Split(length, axis)(inputs)]
        else:
            steps = _Split(length, axis)(inputs)
        states = begin_state
        if states is None:
            infos = self.state_info(0)
            for k in range(len(infos)):
                zero = _Zeros(infos[k]["shape"][1:])(steps[0])
                states = [zero] if k == 0 else states + [zero]
        outputs = None
        for i in range(length):
            output, states = self(steps[i], states)
            outputs = [output] if i == 0 else outputs + [output]
        if merge_outputs:
            outputs = _Stack(axis)(*outputs)
        return outputs, states

    def forward(self, inputs, states):
        raise NotImplementedError()


class HybridRecurrentCell(RecurrentCell, HybridBlock):
    """A recurrent cell whose step is a hybrid_forward(F, inputs, *states, **params)."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def __call__(self, inputs, *states):
        return HybridBlock.__call__(self, inputs, *_flat_states(None, states))

    forward = HybridBlock.forward

    def _call_imperative(self, *args):
        _finish_own_init(self, args)
        return HybridBlock._call_imperative(self, *args)

    def infer_and_initialize(self, args):
        """Deferred shapes from the input's size (FullyConnected flattens it), no trace."""
        i2h_weight = self.__dict__.get("i2h_weight")
        if i2h_weight is not None and not i2h_weight.shape_known:
            size = 1
            for n in args[0].shape[1:]:
                size *= n
            i2h_weight.shape = (i2h_weight.shape[0], size)
        for _, param in self._own_params():
            param._finish_deferred_init()


def _finish_own_init(block, args):
    """Deferred shapes of the block's own parameters (read in hybrid_forward, not passed to
    it, so HybridBlock's deferred-initialization retry does not see them)."""
    if any(param._data is None and param._deferred_init is not None
           for _, param in block._own_params()):
        block.infer_and_initialize(args)


class _Split(HybridBlock):
    """A sequence tensor -> its `length` time steps (so unroll works on arrays and symbols
    and compiles inside a hybrid_forward, where the operators need F)."""

    def __init__(self, length, axis):
        super().__init__()
        self._length, self._axis = length, axis

    def hybrid_forward(self, F, x):
        return F.split(x, num_outputs=self._length, axis=self._axis, squeeze_axis=True)


class _Stack(HybridBlock):
    def __init__(self, axis):
        super().__init__()
        self._axis = axis

    def hybrid_forward(self, F, x, *more):
        return F.stack(x, *more, axis=self._axis)


class _Zeros(HybridBlock):
    """Zeros of shape (batch,) + tail for the batch of `x` (batch, ...)."""

    def __init__(self, tail):
        super().__init__()
        self._tail = tuple(tail)

    def hybrid_forward(self, F, x):
        return _zeros_for_batch(F, x, self._tail)


def _zeros_for_batch(F, x, tail):
    """Zeros (batch,) + tail where batch is x's first axis, built from x so that it has a
    gradient (zero) and needs no shape known while tracing."""
    column = F.zeros_like(F.slice_axis(F.reshape(x, shape=(0, -1)), axis=1, begin=0, end=1))
    size = 1
    for n in tail:
        size = size * n
    flat = F.repeat(column, repeats=size, axis=1)
    return F.reshape(flat, shape=(0,) + tuple(tail))


class _GatedCell(HybridRecurrentCell):
    """A cell whose gates come from two projections, of the input (i2h) and of the previous
    hidden state (h2h), each `_gates * hidden_size` rows, in MXNet's parameter names. A
    subclass defines `_step(F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias)`,
    and `_weight_shapes` where its weights are not matrices over the input and the hidden
    state (a projected or convolutional cell)."""
    _gates = 1

    def __init__(self, hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                 i2h_bias_initializer, h2h_bias_initializer, input_size, prefix, params):
        super().__init__(prefix=prefix, params=params)
        self._hidden_size, self._input_size = hidden_size, input_size
        rows = self._gates * hidden_size
        i2h_shape, h2h_shape = self._weight_shapes(rows)
        _add_param(self, "i2h_weight", i2h_shape, i2h_weight_initializer)
        _add_param(self, "h2h_weight", h2h_shape, h2h_weight_initializer)
        _add_param(self, "i2h_bias", (rows,), i2h_bias_initializer)
        _add_param(self, "h2h_bias", (rows,), h2h_bias_initializer)

    def hybrid_forward(self, F, inputs, *states):
        # the parameters read with .data(): AST mode compiles each into an argument of the
        # program, read afresh on every call
        return self._step(F, inputs, _flat_states(F, states), self.i2h_weight.data(),
                          self.h2h_weight.data(), self.i2h_bias.data(), self.h2h_bias.data())

    def _call_symbolic(self, inputs, *states):
        """Traced, the step runs on the parameters' variables (.data() gives arrays)."""
        weights = [self.i2h_weight, self.h2h_weight, self.i2h_bias, self.h2h_bias]
        with self.name_scope():
            return self._step(symbol, inputs, _flat_states(symbol, states),
                              *[param.var() for param in weights])

    def _weight_shapes(self, rows):
        """(i2h_weight's shape, h2h_weight's): matrices over the input and the hidden state."""
        return (rows, self._input_size), (rows, self._hidden_size)

    def _projections(self, F, inputs, hidden, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        """(i2h, h2h)."""
        rows = self._gates * self._hidden_size
        i2h = F.FullyConnected(inputs, i2h_weight, i2h_bias, num_hidden=rows, name="i2h")
        h2h = F.FullyConnected(hidden, h2h_weight, h2h_bias, num_hidden=rows, name="h2h")
        return i2h, h2h

    def _state(self, batch_size):
        return {"shape": (batch_size, self._hidden_size), "__layout__": "NC"}

    def state_info(self, batch_size=0):
        return [self._state(batch_size)]


class RNNCell(_GatedCell):
    """Elman cell: h' = activation(W_ih x + b_ih + W_hh h + b_hh)."""

    def __init__(self, hidden_size, activation="tanh", i2h_weight_initializer=None,
                 h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", input_size=0, prefix=None, params=None):
        super().__init__(hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, input_size, prefix, params)
        self._activation = activation

    def _alias(self):
        return "rnn"

    def _step(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        i2h, h2h = self._projections(F, inputs, states[0], i2h_weight, h2h_weight, i2h_bias,
                                     h2h_bias)
        output = rnn_step(F, i2h, h2h, self._activation)
        return output, [output]

    def __repr__(self):
        return _cell_repr(self, f", {self._activation}")


class LSTMCell(_GatedCell):
    """LSTM cell, gates in MXNet's order i, f, g (candidate), o (see steps.lstm_step)."""
    _gates = 4

    def __init__(self, hidden_size, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", input_size=0,
                 prefix=None, params=None, activation="tanh", recurrent_activation="sigmoid"):
        super().__init__(hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, input_size, prefix, params)
        self._activation, self._recurrent_activation = activation, recurrent_activation

    def state_info(self, batch_size=0):
        return [self._state(batch_size), self._state(batch_size)]

    def _alias(self):
        return "lstm"

    def _step(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        i2h, h2h = self._projections(F, inputs, states[0], i2h_weight, h2h_weight, i2h_bias,
                                     h2h_bias)
        next_h, next_c = lstm_step(F, i2h, h2h, states[1], self._activation,
                                   self._recurrent_activation)
        return next_h, [next_h, next_c]

    def __repr__(self):
        return _cell_repr(self, "")


class GRUCell(_GatedCell):
    """GRU cell, gates in MXNet's order r, z, n (see steps.gru_step)."""
    _gates = 3

    def __init__(self, hidden_size, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", input_size=0,
                 prefix=None, params=None, activation="tanh", recurrent_activation="sigmoid"):
        super().__init__(hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, input_size, prefix, params)
        self._activation, self._recurrent_activation = activation, recurrent_activation

    def _alias(self):
        return "gru"

    def _step(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        i2h, h2h = self._projections(F, inputs, states[0], i2h_weight, h2h_weight, i2h_bias,
                                     h2h_bias)
        next_h = gru_step(F, i2h, h2h, states[0], self._activation,
                          self._recurrent_activation)
        return next_h, [next_h]

    def __repr__(self):
        return _cell_repr(self, "")


def _add_param(block, name, shape, init, dtype="float32"):
    """A parameter held in block.params (so collect_params names it `name`) and reachable as
    an attribute, but not passed to hybrid_forward as a keyword: hybrid_forward reads
    `.data()` itself, which lets AST mode inline the cell into a caller's program (it cannot
    pass parameters into **kwargs) while states stay a variable-length *states."""
    param = block.params.get(name, shape=shape, init=init, dtype=dtype,
                             allow_deferred_init=True)
    object.__setattr__(block, name, param)
    return param


def _cell_repr(cell, extra):
    shape = cell.i2h_weight.shape
    in_size = shape[1] if shape and shape[1] else None
    return f"{type(cell).__name__}({in_size} -> {shape[0]}{extra})"


class SequentialRNNCell(RecurrentCell):
    """Stacks cells: each step runs them in order, each taking its own slice of the states."""

    def add(self, cell):
        self.register_child(cell)

    def state_info(self, batch_size=0):
        infos = []
        for cell in self._children.values():
            infos = infos + list(cell.state_info(batch_size))
        return infos

    def begin_state(self, batch_size=0, **kwargs):
        return [state for cell in self._children.values()
                for state in cell.begin_state(batch_size, **kwargs)]

    def __call__(self, inputs, *states):
        return self.forward(inputs, _flat_states(None, states))

    def forward(self, inputs, states):
        next_states = []
        position = 0
        for cell in self._children.values():
            count = len(cell.state_info())
            inputs, new = cell(inputs, list(states[position:position + count]))
            position += count
            next_states.extend(new)
        return inputs, next_states

    def __getitem__(self, index):
        return list(self._children.values())[index]

    def __len__(self):
        return len(self._children)


class HybridSequentialRNNCell(HybridRecurrentCell):
    """SequentialRNNCell whose cells are hybrid: the step compiles into one program."""

    add = SequentialRNNCell.add
    state_info = SequentialRNNCell.state_info
    begin_state = SequentialRNNCell.begin_state
    __getitem__ = SequentialRNNCell.__getitem__
    __len__ = SequentialRNNCell.__len__

    def hybrid_forward(self, F, inputs, *states):
        states = _flat_states(F, states)
        position, next_states = 0, None
        for index, cell in enumerate(self._children.values()):
            count = len(cell.state_info())
            inputs, new = cell(inputs, states[position:position + count])
            position += count
            next_states = list(new) if index == 0 else next_states + list(new)
        return inputs, next_states
