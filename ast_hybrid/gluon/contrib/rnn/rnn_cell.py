"""LSTMPCell (an LSTM whose hidden state is projected) and VariationalDropoutCell (one dropout
mask per sequence), as MXNet 1.x's `gluon.contrib.rnn`."""
from .... import symbol
from ....base import MXNetError
from ...block import HybridBlock
from ...rnn.rnn_cell import (HybridRecurrentCell, _add_param, _flat_states, _GatedCell,
                             _Split, _Stack)
from ...rnn.steps import lstm_step


class LSTMPCell(_GatedCell):
    """LSTM cell whose next hidden state is r = h2r_weight @ h (no bias): the states are
    [r (batch, projection_size), c (batch, hidden_size)] and the output is r."""
    _gates = 4

    def __init__(self, hidden_size, projection_size, i2h_weight_initializer=None,
                 h2h_weight_initializer=None, h2r_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", input_size=0,
                 prefix=None, params=None):
        self._projection_size = projection_size     # read by _weight_shapes
        super().__init__(hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, input_size, prefix, params)
        _add_param(self, "h2r_weight", (projection_size, hidden_size), h2r_weight_initializer)
        # MXNet's order of the parameters: i2h_weight, h2h_weight, h2r_weight, the biases
        for name in ("i2h_bias", "h2h_bias"):
            if self.params.prefix + name in self.params._params:
                self.params._params.move_to_end(self.params.prefix + name)

    def _alias(self):
        return "lstmp"

    def _weight_shapes(self, rows):
        return (rows, self._input_size), (rows, self._projection_size)

    def state_info(self, batch_size=0):
        return [{"shape": (batch_size, self._projection_size), "__layout__": "NC"},
                self._state(batch_size)]

    def hybrid_forward(self, F, inputs, *states):
        return self._step(F, inputs, _flat_states(F, states), self.i2h_weight.data(),
                          self.h2h_weight.data(), self.i2h_bias.data(), self.h2h_bias.data(),
                          self.h2r_weight.data())

    def _call_symbolic(self, inputs, *states):
        weights = [self.i2h_weight, self.h2h_weight, self.i2h_bias, self.h2h_bias,
                   self.h2r_weight]
        with self.name_scope():
            return self._step(symbol, inputs, _flat_states(symbol, states),
                              *[param.var() for param in weights])

    def _step(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias, h2r_weight):
        i2h, h2h = self._projections(F, inputs, states[0], i2h_weight, h2h_weight, i2h_bias,
                                     h2h_bias)
        hidden, next_c = lstm_step(F, i2h, h2h, states[1])
        next_r = F.FullyConnected(hidden, h2r_weight, num_hidden=self._projection_size,
                                  no_bias=True, name="out")
        return next_r, [next_r, next_c]

    def __repr__(self):
        shape = self.i2h_weight.shape
        return (f"LSTMPCell({shape[1] if shape[1] else None} -> {shape[0]} -> "
                f"{self.h2r_weight.shape[0]})")


class VariationalDropoutCell(HybridRecurrentCell):
    """Dropout on a base cell's inputs, first state (h) and outputs with one mask each per
    sequence (https://arxiv.org/abs/1512.05287): a step draws the masks it lacks and keeps
    them, reused by every later step until `reset()` (which `unroll` calls first).

    The kept masks are state between calls, which a compiled program cannot hold: AST mode
    refuses the step at compile time (it assigns to the block), and trace mode refuses a
    traced step (its graph would draw new masks at every step) except inside an unroll traced
    as a whole, whose graph draws each mask once per call, as imperatively once per unroll.
    `unroll` without state dropout draws its masks over the whole sequence, once, and
    compiles in either mode."""

    def __init__(self, base_cell, drop_inputs=0., drop_states=0., drop_outputs=0.):
        if drop_states and getattr(base_cell, "_bidirectional", False):
            raise AssertionError("a bidirectional cell does not support variational state "
                                 "dropout: wrap the cells underneath instead")
        super().__init__(prefix=base_cell.prefix + self._alias(), params=None)
        self.base_cell = base_cell
        self.drop_inputs, self.drop_states, self.drop_outputs = \
            drop_inputs, drop_states, drop_outputs
        self.drop_inputs_mask = self.drop_states_mask = self.drop_outputs_mask = None
        self._tracing_unroll = False

    def _alias(self):
        return "vardrop"

    @property
    def params(self):
        return self.base_cell.params

    def state_info(self, batch_size=0):
        return self.base_cell.state_info(batch_size)

    def begin_state(self, batch_size=0, **kwargs):
        return self.base_cell.begin_state(batch_size, **kwargs)

    def reset(self):
        super().reset()
        self.drop_inputs_mask = self.drop_states_mask = self.drop_outputs_mask = None

    def infer_and_initialize(self, args):
        """The parameters are the base cell's, which initializes them when it runs."""

    def hybrid_forward(self, F, inputs, *states):
        states = _flat_states(F, states)
        # masks of ones through Dropout: scaled where kept, and ones while predicting. The
        # input's is drawn before the state's, the order in which a traced graph runs them
        # (its cells project the input first), so that both modes draw the same numbers
        if self.drop_inputs and self.drop_inputs_mask is None:
            self.drop_inputs_mask = F.Dropout(F.ones_like(inputs), p=self.drop_inputs)
        if self.drop_states and self.drop_states_mask is None:
            self.drop_states_mask = F.Dropout(F.ones_like(states[0]), p=self.drop_states)
        if self.drop_states:
            states = [states[0] * self.drop_states_mask] + states[1:]
        if self.drop_inputs:
            inputs = inputs * self.drop_inputs_mask
        output, next_states = self.base_cell(inputs, states)
        if self.drop_outputs and self.drop_outputs_mask is None:
            self.drop_outputs_mask = F.Dropout(F.ones_like(output), p=self.drop_outputs)
        if self.drop_outputs:
            output = output * self.drop_outputs_mask
        return output, next_states

    def _masks(self):
        return [self.drop_inputs_mask, self.drop_states_mask, self.drop_outputs_mask]

    def _call_imperative(self, *args):
        if any(isinstance(mask, symbol.Symbol) for mask in self._masks()):
            raise MXNetError("VariationalDropoutCell: its masks were drawn by a traced unroll "
                             "and live in that graph; call reset() before stepping it")
        return super()._call_imperative(*args)

    def _call_symbolic(self, inputs, *states):
        if not self._tracing_unroll and (self.drop_inputs or self.drop_states or
                                         self.drop_outputs):
            raise MXNetError(
                "VariationalDropoutCell keeps its dropout masks from one step to the next, "
                "which the traced graph of a step cannot: it would draw new masks at every "
                "step. Step it imperatively (hybridize its base_cell alone), or unroll it "
                "inside a hybridized block")
        with self.name_scope():
            return self.hybrid_forward(symbol, inputs, *states)

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None,
               valid_length=None):
        """As MXNet: with state dropout, step by step (each step's masks the first step's);
        without, the base cell's unroll between dropouts of the whole input and output
        sequences, one mask each shared by every time step. The outputs are merged unless
        merge_outputs is False."""
        if self.drop_states:
            return self._unroll_by_steps(length, inputs, begin_state, layout, merge_outputs,
                                         valid_length)
        if valid_length is not None:
            raise NotImplementedError("unroll(valid_length=...) is not supported")
        # masks kept by steps taken earlier go as MXNet's reset drops them (a compiled
        # caller sees none while compiling and is recompiled when a step keeps one)
        if self.drop_inputs_mask is not None or self.drop_states_mask is not None or \
                self.drop_outputs_mask is not None:
            self.reset()
        axis = layout.find("T")
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != length:
                raise ValueError(f"unroll: {len(inputs)} inputs given for length {length}")
            inputs = _Stack(axis)(*inputs)
        if self.drop_inputs:
            inputs = _SequenceDropout(self.drop_inputs, axis)(inputs)
        outputs, states = self.base_cell.unroll(length, inputs, begin_state, layout,
                                                merge_outputs=True)
        if self.drop_outputs:
            outputs = _SequenceDropout(self.drop_outputs, axis)(outputs)
        if merge_outputs is False:
            steps = _Split(length, axis)(outputs)
            outputs = [steps] if length == 1 else steps
        return outputs, states

    def _unroll_by_steps(self, length, inputs, begin_state, layout, merge_outputs,
                         valid_length):
        """The base class's unroll, each step through this cell; its steps may be traced
        when the unroll is (its inputs are symbols), as one graph then draws every mask."""
        first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        self._tracing_unroll = isinstance(first, symbol.Symbol)
        try:
            return super().unroll(length, inputs, begin_state, layout, merge_outputs,
                                  valid_length)
        finally:
            self._tracing_unroll = False

    def __repr__(self):
        return (f"VariationalDropoutCell(p_out = {self.drop_outputs}, "
                f"p_state = {self.drop_states})")


class _SequenceDropout(HybridBlock):
    """Dropout of a sequence with one mask for all its time steps (the mask is 1 along the
    time axis)."""

    def __init__(self, rate, axis):
        super().__init__()
        self._rate, self._axis = rate, axis

    def hybrid_forward(self, F, x):
        return F.Dropout(x, p=self._rate, axes=(self._axis,))
