"""Recurrent layers rnn.RNN, rnn.LSTM, rnn.GRU (MXNet 1.x's names, signatures, parameter
names and shapes), written as a Python loop over time steps on the cells' gate maths (steps.py).

Imperatively and in AST mode the loop runs as it is (AST mode compiles it; the sequence
length is read from the input on every call, so a new length needs no recompilation). Traced
(trace mode, `export`), a layer is MXNet's fused `RNN` operator on its parameters
concatenated as MXNet lays them out, as MXNet traces it, so its graphs load in either."""
from ... import ndarray
from ...symbol import Symbol
from ..block import HybridBlock
from .rnn_cell import _add_param, _finish_own_init, _flat_states, _zeros_for_batch
from .steps import gru_step, lstm_step, rnn_step

_GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}


class _RNNLayer(HybridBlock):
    """The shared implementation of RNN, LSTM and GRU."""

    def __init__(self, hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                 i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                 h2h_bias_initializer, mode, projection_size=None, dtype="float32",
                 prefix=None, params=None, **kwargs):
        super().__init__(prefix=prefix, params=params)
        if layout not in ("TNC", "NTC"):
            raise ValueError(f"Invalid layout {layout!r}; must be one of ['TNC' or 'NTC']")
        if projection_size:
            raise NotImplementedError("LSTM projection_size is not supported")
        self._hidden_size, self._num_layers = int(hidden_size), int(num_layers)
        self._mode, self._layout, self._dropout = mode, layout, float(dropout)
        self._dir = 2 if bidirectional else 1
        self._input_size = int(input_size)
        self._gates = _GATES[mode]
        self._dtype = dtype
        rows, size = self._gates * self._hidden_size, self._input_size
        for layer in range(self._num_layers):
            for direction in "lr"[:self._dir]:
                name = f"{direction}{layer}_"
                self._register(name + "i2h_weight", (rows, size), i2h_weight_initializer)
                self._register(name + "h2h_weight", (rows, self._hidden_size),
                               h2h_weight_initializer)
                self._register(name + "i2h_bias", (rows,), i2h_bias_initializer)
                self._register(name + "h2h_bias", (rows,), h2h_bias_initializer)
            size = self._hidden_size * self._dir

    def _register(self, name, shape, init):
        _add_param(self, name, shape, init, self._dtype)

    def _own_paths(self, earlier):
        """MXNet 1.x saves a layer's parameters by the paths of the cells it unfuses into
        (`_unfused.0.i2h_weight`, `_unfused.0.l_cell.i2h_weight` when bidirectional);
        earlier versions of this package saved them by their own names (`l0_i2h_weight`)."""
        own = self._own_params()
        if earlier:
            return own
        paths = []
        for key, param in own:
            direction, layer, weight = key[0], key[1:key.index("_")], key[key.index("_") + 1:]
            cell = f"{direction}_cell." if self._dir == 2 else ""
            paths.append((f"_unfused.{layer}.{cell}{weight}", param))
        return paths

    def __repr__(self):
        shape = self.l0_i2h_weight.shape
        mapping = (f"{shape[1] if shape[1] else None} -> {self._hidden_size}")
        extra = f", {self._layout}"
        if self._num_layers != 1:
            extra += f", num_layers={self._num_layers}"
        if self._dropout != 0:
            extra += f", dropout={self._dropout}"
        if self._dir == 2:
            extra += ", bidirectional"
        return f"{type(self).__name__}({mapping}{extra})"

    def state_info(self, batch_size=0):
        shape = (self._num_layers * self._dir, batch_size, self._hidden_size)
        count = 2 if self._mode == "lstm" else 1
        return [{"shape": shape, "__layout__": "LNC", "dtype": self._dtype}] * count

    def begin_state(self, batch_size=0, func=ndarray.zeros, **kwargs):
        """The initial states: a list of `func(shape=(layers*directions, batch, hidden))`
        (two for LSTM: h and c)."""
        states = []
        for info in self.state_info(batch_size):
            info = dict(info)
            info.pop("__layout__", None)
            info.update(kwargs)
            states.append(func(**info))
        return states

    def __call__(self, inputs, *states):
        return HybridBlock.__call__(self, inputs, *_flat_states(None, states))

    def _call_imperative(self, *args):
        _finish_own_init(self, args)
        return HybridBlock._call_imperative(self, *args)

    def infer_and_initialize(self, args):
        """Deferred shapes come straight from the input's feature size (no trace needed)."""
        inputs = args[0]
        size = inputs.shape[2]
        for layer in range(self._num_layers):
            for direction in "lr"[:self._dir]:
                param = getattr(self, f"{direction}{layer}_i2h_weight")
                if not param.shape_known:
                    param.shape = (self._gates * self._hidden_size, size)
            size = self._hidden_size * self._dir
        for _, param in self._own_params():
            param._finish_deferred_init()

    def hybrid_forward(self, F, inputs, *states):
        if isinstance(inputs, Symbol):
            return self._fused(F, inputs, _flat_states(F, states))
        # Written for AST mode's compiler: loops over layers and directions unroll while
        # compiling, the loop over time steps stays a loop; results are gathered by concat
        # and by explicit names rather than by list.append.
        states = _flat_states(F, states)
        lstm = self._mode == "lstm"
        given = len(states) > 0        # (len: AST mode decides this while compiling)
        if self._layout == "NTC":
            inputs = F.swapaxes(inputs, dim1=0, dim2=1)
        length = inputs.shape[0]
        new_h = new_c = layer_out = None
        for layer in range(self._num_layers):
            for direction in range(self._dir):
                index = layer * self._dir + direction
                prefix = "lr"[direction] + str(layer) + "_"
                if given:
                    h = F.squeeze(F.slice_axis(states[0], axis=0, begin=index, end=index + 1),
                                  axis=0)
                    c = F.squeeze(F.slice_axis(states[1], axis=0, begin=index, end=index + 1),
                                  axis=0) if lstm else h
                else:
                    first = F.squeeze(F.slice_axis(inputs, axis=0, begin=0, end=1), axis=0)
                    h = _zeros_for_batch(F, first, (self._hidden_size,))
                    c = h
                # the parameters by name (AST mode compiles .data() into an argument of the
                # program, read afresh on every call)
                out, h, c = self._run_direction(
                    F, inputs, length, h, c, direction == 1,
                    getattr(self, prefix + "i2h_weight").data(),
                    getattr(self, prefix + "h2h_weight").data(),
                    getattr(self, prefix + "i2h_bias").data(),
                    getattr(self, prefix + "h2h_bias").data())
                # (no aliases such as `new_h = h`: each name is bound to a fresh result)
                if index == 0:
                    new_h = F.expand_dims(h, axis=0)
                    new_c = F.expand_dims(c, axis=0)
                else:
                    new_h = F.concat(new_h, F.expand_dims(h, axis=0), dim=0)
                    new_c = F.concat(new_c, F.expand_dims(c, axis=0), dim=0)
                layer_out = out if direction == 0 else F.concat(layer_out, out, dim=2)
            inputs = layer_out
            if self._dropout > 0 and layer + 1 < self._num_layers:
                inputs = F.Dropout(inputs, p=self._dropout)
        outputs = inputs
        if self._layout == "NTC":
            outputs = F.swapaxes(outputs, dim1=0, dim2=1)
        if not given:
            return outputs
        return outputs, ([new_h, new_c] if lstm else [new_h])

    def _fused(self, F, inputs, states):
        """The traced layer: MXNet's RNN operator, its parameters' variables flattened and
        concatenated (every weight, then every bias, by layer, direction, i2h before h2h)."""
        if self._layout == "NTC":
            inputs = F.swapaxes(inputs, dim1=0, dim2=1)
        flat = F._rnn_param_concat(*[
            F.reshape(getattr(self, f"{direction}{layer}_{kind}_{role}").var(), shape=(-1,))
            for role in ("weight", "bias") for layer in range(self._num_layers)
            for direction in "lr"[:self._dir] for kind in ("i2h", "h2h")], dim=0)
        given = len(states) > 0
        if not given:
            first = F.squeeze(F.slice_axis(inputs, axis=0, begin=0, end=1), axis=0)
            zeros = F.broadcast_axis(
                F.expand_dims(_zeros_for_batch(F, first, (self._hidden_size,)), axis=0),
                axis=0, size=self._num_layers * self._dir)
            states = [zeros, zeros] if self._mode == "lstm" else [zeros]
        fused = F.RNN(inputs, flat, *states, state_size=self._hidden_size,
                      num_layers=self._num_layers, bidirectional=self._dir == 2,
                      p=self._dropout, state_outputs=True, mode=self._mode)
        outputs = fused[0]
        if self._layout == "NTC":
            outputs = F.swapaxes(outputs, dim1=0, dim2=1)
        if not given:
            return outputs
        return outputs, [fused[1], fused[2]] if self._mode == "lstm" else [fused[1]]

    def _run_direction(self, F, inputs, length, h, c, reverse, i2h_weight, h2h_weight,
                       i2h_bias, h2h_bias):
        """One layer in one direction over (T, N, C) inputs: (outputs (T, N, H), h, c)."""
        rows = self._gates * self._hidden_size
        # every time step's input projection in one product
        i2h_all = F.FullyConnected(inputs, i2h_weight, i2h_bias, num_hidden=rows,
                                   flatten=False)
        outputs = []
        for step in range(length):
            t = length - 1 - step if reverse else step
            i2h = F.squeeze(F.slice_axis(i2h_all, axis=0, begin=t, end=t + 1), axis=0)
            h, c = self._step(F, i2h, h, c, h2h_weight, h2h_bias)
            outputs.append(h)
        # gathered once, in time order (not grown step by step, quadratic in the length)
        gathered = F.stack(*outputs, axis=0)
        return (F.reverse(gathered, axis=0) if reverse else gathered), h, c

    def _step(self, F, i2h, h, c, h2h_weight, h2h_bias):
        """One time step given the input projection i2h (N, gates*H): the new (h, c) (c is
        h for RNN and GRU)."""
        h2h = F.FullyConnected(h, h2h_weight, h2h_bias, num_hidden=self._gates * self._hidden_size)
        if self._mode == "lstm":
            return lstm_step(F, i2h, h2h, c)
        if self._mode == "gru":
            next_h = gru_step(F, i2h, h2h, h)
        else:
            next_h = rnn_step(F, i2h, h2h, self._mode[len("rnn_"):])
        return next_h, next_h


class RNN(_RNNLayer):
    """Elman RNN layer: h_t = activation(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)."""

    def __init__(self, hidden_size, num_layers=1, activation="relu", layout="TNC", dropout=0,
                 bidirectional=False, i2h_weight_initializer=None,
                 h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", input_size=0, dtype="float32", **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                         h2h_bias_initializer, "rnn_" + activation, dtype=dtype, **kwargs)


class LSTM(_RNNLayer):
    """LSTM layer (gates i, f, g, o as MXNet); states [h, c], each (layers*dirs, N, H)."""

    def __init__(self, hidden_size, num_layers=1, layout="TNC", dropout=0,
                 bidirectional=False, input_size=0, i2h_weight_initializer=None,
                 h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", projection_size=None, h2r_weight_initializer=None,
                 state_clip_min=None, state_clip_max=None, state_clip_nan=False,
                 dtype="float32", **kwargs):
        if state_clip_min is not None or state_clip_max is not None:
            raise NotImplementedError("LSTM state clipping is not supported")
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                         h2h_bias_initializer, "lstm", projection_size=projection_size,
                         dtype=dtype, **kwargs)


class GRU(_RNNLayer):
    """GRU layer (gates r, z, n as MXNet, reset applied after h2h's bias)."""

    def __init__(self, hidden_size, num_layers=1, layout="TNC", dropout=0,
                 bidirectional=False, input_size=0, i2h_weight_initializer=None,
                 h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", dtype="float32", **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                         h2h_bias_initializer, "gru", dtype=dtype, **kwargs)
